"""Made-to-order orders, their items (priced at order time) and their status history.

Customers, products and inventory items are referenced by plain indexed id columns, not foreign keys, so this
domain's migration branch stays independent of the others.
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


class Order(OrgScoped, Timestamped, Versioned, Base):
    """One order (WJ Partners' shape). The customer's name, email and phone are kept as they were given, so
    the order reads the same after the customer record changes."""

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("organization_id", "external_order_id"),
        Index("ix_orders_org_status", "organization_id", "status"),
        Index("ix_orders_org_created", "organization_id", "created_at"),
        Index("ix_orders_org_customer", "organization_id", "customer_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    external_order_id: Mapped[str | None] = mapped_column(String(100))
    order_date: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    customer_id: Mapped[str | None] = mapped_column(String(32))
    customer_name: Mapped[str | None] = mapped_column(String(200))
    customer_email: Mapped[str | None] = mapped_column(String(254))
    customer_phone: Mapped[str | None] = mapped_column(String(50))
    shipping_address: Mapped[Any] = mapped_column(JSONType, nullable=True)
    billing_address: Mapped[Any] = mapped_column(JSONType, nullable=True)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    status: Mapped[int] = mapped_column(Integer, nullable=False)
    payment_status: Mapped[int] = mapped_column(Integer, nullable=False)
    pay_method: Mapped[int] = mapped_column(Integer, nullable=False)
    order_type: Mapped[int] = mapped_column(Integer, nullable=False)
    order_purpose: Mapped[int] = mapped_column(Integer, nullable=False)
    tracking_number: Mapped[str | None] = mapped_column(String(100))
    transaction_id: Mapped[str | None] = mapped_column(String(100))
    comment: Mapped[str | None] = mapped_column(Text)
    message: Mapped[str | None] = mapped_column(Text)
    subtotal: Mapped[Decimal] = mapped_column(Amount, nullable=False)
    total: Mapped[Decimal] = mapped_column(Amount, nullable=False)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str | None] = mapped_column(String(64))

    items: Mapped[list[OrderItem]] = relationship(
        back_populates="order", order_by="OrderItem.position", lazy="selectin", cascade="all, delete-orphan")
    history: Mapped[list[OrderStatusChange]] = relationship(
        back_populates="order", order_by="OrderStatusChange.id", lazy="selectin", cascade="all, delete-orphan")


class OrderItem(OrgScoped, Base):
    """One configured piece of an order, with the catalog's price and breakdown frozen at order time."""

    __tablename__ = "order_items"
    __table_args__ = (Index("ix_order_items_org_configuration", "organization_id", "configuration_id"),)

    id: Mapped[int] = mapped_column(SequenceType, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(String(32), ForeignKey("orders.id", ondelete="CASCADE"), index=True,
                                          nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    qty: Mapped[int] = mapped_column(Integer, nullable=False)
    vendor_model: Mapped[str] = mapped_column(String(100), nullable=False)
    product_id: Mapped[str | None] = mapped_column(String(32))
    configuration_id: Mapped[str] = mapped_column(String(200), nullable=False)
    configuration: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    size: Mapped[Any] = mapped_column(JSONType, nullable=True)
    title: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    unit_price: Mapped[Decimal] = mapped_column(Amount, nullable=False)
    amount: Mapped[Decimal] = mapped_column(Amount, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    breakdown: Mapped[Any] = mapped_column(JSONType, nullable=True)
    # Set when the finished piece is received into stock: one serialized inventory item per unit.
    inventory_ids: Mapped[list[str]] = mapped_column(JSONType, nullable=False, default=list)

    order: Mapped[Order] = relationship(back_populates="items")


class OrderStatusChange(OrgScoped, Base):
    """One step of an order's life: who moved it from which status to which, and when. Append-only."""

    __tablename__ = "order_status_history"

    id: Mapped[int] = mapped_column(SequenceType, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(String(32), ForeignKey("orders.id", ondelete="CASCADE"), index=True,
                                          nullable=False)
    from_status: Mapped[int | None] = mapped_column(Integer)
    to_status: Mapped[int] = mapped_column(Integer, nullable=False)
    actor: Mapped[str | None] = mapped_column(String(64))
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    order: Mapped[Order] = relationship(back_populates="history")
