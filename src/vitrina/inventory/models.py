"""Inventory tables: locations (this file's worked example for every domain), items, their ledger and holds."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from vitrina.core.time import utcnow
from vitrina.db.base import Base, OrgScoped, Timestamped, Versioned
from vitrina.db.types import Amount, JSONType, UTCDateTime

SERIALIZED, BULK = "serialized", "bulk"
TRACKING_MODES = (SERIALIZED, BULK)
# Stored statuses. ``reserved`` is never stored: it is derived when every unit of an active item is held
# (so a reservation that expires needs no write to stop showing).
ACTIVE, RESERVED, SOLD, REPAIR, MEMO, ARCHIVED = "active", "reserved", "sold", "repair", "memo", "archived"
STATUSES = (ACTIVE, RESERVED, SOLD, REPAIR, MEMO, ARCHIVED)
ROOM_TYPES = ("sales_floor", "vault", "quarantine", "secret_menu", "repair", "memo", "in_transit")
REASON_CODES = ("SALE", "RETURN", "ADJUSTMENT", "DAMAGE", "THEFT", "TRANSFER", "AUDIT", "RECEIVED")
CERTIFICATIONS = ("GIA", "IGI", "AGS", "HRD", "EGL", "none")


class Location(OrgScoped, Timestamped, Versioned, Base):
    """A store, workshop or warehouse. Deleting one only hides it: movements keep pointing at it."""

    __tablename__ = "locations"
    __table_args__ = (UniqueConstraint("organization_id", "code"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    code: Mapped[str] = mapped_column(String(40), nullable=False)
    address: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    timezone: Mapped[str] = mapped_column(String(64), nullable=False, default="UTC")
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Item(OrgScoped, Timestamped, Versioned, Base):
    """Stock of one SKU (bulk) or one unique piece (serialized) at one location and room.

    ``quantity`` and ``reserved_quantity`` change only through conditional UPDATEs in ``inventory.service``;
    ``quantity`` always equals the sum of the item's movements. ``last_moved_at`` is the timestamp of the
    latest movement, kept so that each item's movement times never go backwards (see ``Movement``).
    """

    __tablename__ = "inventory_items"
    __table_args__ = (
        UniqueConstraint("organization_id", "external_id"),
        # One certificate identifies one physical piece.
        Index("uq_inventory_items_serialized_cert", "organization_id", "sku", "cert_number", unique=True,
              sqlite_where=text("tracking = 'serialized' AND cert_number IS NOT NULL"),
              postgresql_where=text("tracking = 'serialized' AND cert_number IS NOT NULL")),
        Index("ix_inventory_items_org_location", "organization_id", "location_id", "room_type"),
        Index("ix_inventory_items_org_sku", "organization_id", "sku"),
        Index("ix_inventory_items_org_created", "organization_id", "created_at"),
        Index("ix_inventory_items_org_updated", "organization_id", "updated_at"),
        Index("ix_inventory_items_org_status", "organization_id", "status"),
        Index("ix_inventory_items_org_location_status", "organization_id", "location_id", "status", "created_at", "id",
              postgresql_include=["quantity", "reserved_quantity"]),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(100))
    sku: Mapped[str] = mapped_column(String(100), nullable=False)
    name: Mapped[str] = mapped_column(String(300), nullable=False)
    category: Mapped[str | None] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    tracking: Mapped[str] = mapped_column(String(12), nullable=False, default=SERIALIZED)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default=ACTIVE)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    reserved_quantity: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    low_stock_threshold: Mapped[int | None] = mapped_column(Integer)
    location_id: Mapped[str | None] = mapped_column(String(32), ForeignKey("locations.id"))
    room_type: Mapped[str] = mapped_column(String(16), nullable=False, default="sales_floor")
    price: Mapped[Decimal | None] = mapped_column(Amount)
    cost: Mapped[Decimal | None] = mapped_column(Amount)
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="USD")
    supplier_id: Mapped[str | None] = mapped_column(String(100))
    certification: Mapped[str | None] = mapped_column(String(8))
    cert_number: Mapped[str | None] = mapped_column(String(100))
    product_id: Mapped[str | None] = mapped_column(String(100))
    configuration_id: Mapped[str | None] = mapped_column(String(200))
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    last_moved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Movement(OrgScoped, Base):
    """One quantity change of one item: the append-only ledger (never updated, never deleted).

    ``quantity_after`` is the item's quantity right after this movement, so the quantity at any instant is
    the ``quantity_after`` of the item's last movement at or before it (one index probe, no replay).
    ``item_version`` is the item's version after the change: it orders an item's movements exactly as their
    updates were serialized, and ``created_at`` never decreases along it. ``location_id``/``room_type`` are
    where the item was after the movement, so snapshots place pieces where they were, not where they are.
    """

    __tablename__ = "inventory_movements"
    __table_args__ = (
        UniqueConstraint("item_id", "item_version"),
        Index("ix_inventory_movements_item_time", "item_id", "created_at", "item_version",
              postgresql_include=["quantity_after", "location_id", "room_type", "organization_id"]),
        # Finds the pieces that were at a location in the past but have moved on since (snapshot by location).
        Index("ix_inventory_movements_transfers", "organization_id", "location_id", "item_id",
              sqlite_where=text("reason_code = 'TRANSFER'"), postgresql_where=text("reason_code = 'TRANSFER'")),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    item_id: Mapped[str] = mapped_column(String(32), ForeignKey("inventory_items.id"), nullable=False)
    item_version: Mapped[int] = mapped_column(Integer, nullable=False)
    quantity_change: Mapped[int] = mapped_column(Integer, nullable=False)
    quantity_after: Mapped[int] = mapped_column(Integer, nullable=False)
    reason_code: Mapped[str] = mapped_column(String(12), nullable=False)
    notes: Mapped[str | None] = mapped_column(Text)
    reference: Mapped[str | None] = mapped_column(String(255))
    actor: Mapped[str | None] = mapped_column(String(64))
    location_id: Mapped[str | None] = mapped_column(String(32))
    room_type: Mapped[str] = mapped_column(String(16), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class Reservation(OrgScoped, Base):
    """A hold on units of an item. Active while ``released_at`` is null and ``expires_at`` is in the future.

    ``Item.reserved_quantity`` is the sum of the unreleased holds, maintained under the item's row lock; an
    expired hold is released lazily by the next write to its item, and reads discount it meanwhile.
    """

    __tablename__ = "inventory_reservations"
    __table_args__ = (Index("ix_inventory_reservations_item_open", "item_id", "released_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    item_id: Mapped[str] = mapped_column(String(32), ForeignKey("inventory_items.id"), nullable=False)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    reference: Mapped[str | None] = mapped_column(String(255))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    actor: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    release_reason: Mapped[str | None] = mapped_column(String(16))
