"""Sales tables: customers, transactions and their lines.

Items, locations and tiers are referenced by plain indexed id columns, not foreign keys, so this domain's
migration branch stays independent of inventory's and catalog's.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vitrina.core.models import SequenceType
from vitrina.core.time import utcnow
from vitrina.db.base import Base, OrgScoped, Timestamped, Versioned
from vitrina.db.types import Amount, JSONType, UTCDateTime


class Customer(OrgScoped, Timestamped, Versioned, Base):
    """A store's customer. Deleting one with history keeps the row, anonymised, so sales still add up."""

    __tablename__ = "customers"
    __table_args__ = (
        UniqueConstraint("organization_id", "external_id"),
        Index("ix_customers_org_email", "organization_id", "email"),
        Index("ix_customers_org_name", "organization_id", "name"),
        Index("ix_customers_org_phone", "organization_id", "phone"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(100))
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(50))
    addresses: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, nullable=False, default=list)
    tier_id: Mapped[str | None] = mapped_column(String(32))
    notes: Mapped[str | None] = mapped_column(Text)
    anonymized_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SalesTransaction(OrgScoped, Base):
    """A completed sale or return. Immutable once written: a correction is another transaction."""

    __tablename__ = "transactions"
    __table_args__ = (
        Index("ix_transactions_org_created", "organization_id", "created_at"),
        Index("ix_transactions_org_customer", "organization_id", "customer_id"),
        Index("ix_transactions_org_location", "organization_id", "location_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    type: Mapped[str] = mapped_column(String(8), nullable=False)
    customer_id: Mapped[str | None] = mapped_column(String(32))
    location_id: Mapped[str | None] = mapped_column(String(32))
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    payment_method: Mapped[str | None] = mapped_column(String(40))
    reference: Mapped[str | None] = mapped_column(String(255))
    line_count: Mapped[int] = mapped_column(Integer, nullable=False)
    unit_count: Mapped[int] = mapped_column(Integer, nullable=False)
    subtotal: Mapped[Decimal] = mapped_column(Amount, nullable=False)
    total: Mapped[Decimal] = mapped_column(Amount, nullable=False)
    actor: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    lines: Mapped[list[TransactionLine]] = relationship(
        back_populates="sales_transaction", order_by="TransactionLine.line_no", lazy="selectin",
        cascade="all, delete-orphan",
    )


class TransactionLine(OrgScoped, Base):
    """One line of a transaction. A sale line counts what has been returned against it, so a return can be
    checked (and concurrent returns serialised) with one conditional update."""

    __tablename__ = "transaction_lines"
    __table_args__ = (
        Index("ix_transaction_lines_org_inventory", "organization_id", "inventory_id"),
    )

    id: Mapped[int] = mapped_column(SequenceType, primary_key=True, autoincrement=True)
    transaction_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("transactions.id", ondelete="CASCADE"), index=True, nullable=False)
    line_no: Mapped[int] = mapped_column(Integer, nullable=False)
    inventory_id: Mapped[str] = mapped_column(String(32), nullable=False)
    sku: Mapped[str | None] = mapped_column(String(100))
    name: Mapped[str | None] = mapped_column(String(300))
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    unit_price: Mapped[Decimal] = mapped_column(Amount, nullable=False)
    amount: Mapped[Decimal] = mapped_column(Amount, nullable=False)
    price_source: Mapped[str] = mapped_column(String(16), nullable=False)
    movement_id: Mapped[str | None] = mapped_column(String(32))
    # For a return line: the sale line it returns. For a sale line: how many units came back so far.
    sale_line_id: Mapped[int | None] = mapped_column(SequenceType, ForeignKey("transaction_lines.id"))
    returned_quantity: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    sales_transaction: Mapped[SalesTransaction] = relationship(back_populates="lines")
