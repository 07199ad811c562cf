"""Provenance tables: passports, ownership transfers, the per-organization Merkle ledger and its keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from vitrina.core.time import utcnow
from vitrina.db.base import Base, OrgScoped, Timestamped, Versioned
from vitrina.db.types import JSONType, UTCDateTime

ACTIVE, STOLEN, LOST, DESTROYED = "active", "stolen", "lost", "destroyed"
PASSPORT_STATUSES = (ACTIVE, STOLEN, LOST, DESTROYED)
PENDING, COMPLETED, CANCELLED, EXPIRED = "pending", "completed", "cancelled", "expired"
TRANSFER_STATUSES = (PENDING, COMPLETED, CANCELLED, EXPIRED)


class Passport(OrgScoped, Timestamped, Versioned, Base):
    """The lasting identity of one physical piece and its tag.

    SUN keys are sealed (AES-GCM under the server secret, bound to the passport id) and never returned;
    ``last_counter`` is the highest SDMReadCtr accepted, so a copied URL (same or lower counter) is a replay.
    ``ledger_index``/``ledger_hash`` point at the passport's latest leaf in the organization's ledger.
    """

    __tablename__ = "passports"
    __table_args__ = (
        UniqueConstraint("organization_id", "tag_id"),
        Index("uq_passports_org_sun_uid", "organization_id", "sun_uid", unique=True,
              sqlite_where=text("sun_uid IS NOT NULL"), postgresql_where=text("sun_uid IS NOT NULL")),
        Index("ix_passports_org_inventory", "organization_id", "inventory_id"),
        Index("ix_passports_tag_id", "tag_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tag_id: Mapped[str] = mapped_column(String(128), nullable=False)
    product_name: Mapped[str] = mapped_column(String(300), nullable=False)
    brand: Mapped[str | None] = mapped_column(String(200))
    serial_number: Mapped[str | None] = mapped_column(String(200))
    category: Mapped[str | None] = mapped_column(String(100))
    details: Mapped[dict[str, Any]] = mapped_column("metadata", JSONType, nullable=False, default=dict)
    inventory_id: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(12), nullable=False, default=ACTIVE)
    status_note: Mapped[str | None] = mapped_column(Text)
    current_owner: Mapped[str] = mapped_column(String(255), nullable=False)
    current_owner_name: Mapped[str | None] = mapped_column(String(300))
    transfer_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    verification_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    sun_uid: Mapped[str | None] = mapped_column(String(14))
    meta_key_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    file_key_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    last_counter: Mapped[int | None] = mapped_column(Integer)
    signing_public_key: Mapped[str | None] = mapped_column(String(64))
    last_signed_timestamp: Mapped[int | None] = mapped_column(Integer)
    ledger_index: Mapped[int | None] = mapped_column(Integer)
    ledger_hash: Mapped[str | None] = mapped_column(String(64))


class Transfer(OrgScoped, Base):
    """An ownership transfer: pending until the recipient's claim code confirms it (or it is cancelled/expires).

    Only a hash of the claim code is stored. A partial unique index allows one pending transfer per passport.
    """

    __tablename__ = "passport_transfers"
    __table_args__ = (
        Index("uq_passport_transfers_pending", "passport_id", unique=True,
              sqlite_where=text("status = 'pending'"), postgresql_where=text("status = 'pending'")),
        Index("ix_passport_transfers_org_created", "organization_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    passport_id: Mapped[str] = mapped_column(String(32), ForeignKey("passports.id"), nullable=False)
    from_owner: Mapped[str] = mapped_column(String(255), nullable=False)
    to_owner: Mapped[str] = mapped_column(String(255), nullable=False)
    message: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default=PENDING)
    claim_code_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LedgerHead(OrgScoped, Base):
    """One row per organization: the tree size, locked (FOR UPDATE / SQLite's write lock) while appending."""

    __tablename__ = "ledger_heads"

    organization_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tree_size: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_leaf_hash: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class LedgerLeaf(OrgScoped, Base):
    """One ledger entry. ``leaf_data`` is the canonical JSON of the event, which names the previous leaf's hash,
    so each entry's hash covers its predecessor (a hash chain) as well as being a Merkle leaf."""

    __tablename__ = "ledger_leaves"

    organization_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    leaf_index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    passport_id: Mapped[str | None] = mapped_column(String(32), index=True)
    event_type: Mapped[str] = mapped_column(String(40), nullable=False)
    leaf_data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class LedgerNode(OrgScoped, Base):
    """The hash of every complete (perfect, aligned) subtree: level ``l``, index ``i`` covers leaves
    ``[i·2^l, (i+1)·2^l)``. Any proof or root needs O(log n) of these, read in one query."""

    __tablename__ = "ledger_nodes"

    organization_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    node_index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


class OrganizationKeys(OrgScoped, Base):
    """The organization's AN10922 master key (sealed), from which tag keys are diversified."""

    __tablename__ = "provenance_keys"

    organization_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    master_key_sealed: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class LedgerCheckpoint(OrgScoped, Base):
    """Every checkpoint handed out (one row per organization and tree size), kept so ``vitrina check`` can
    recompute the tree from the leaves and compare it with what was signed: rewriting history consistently in the
    database (leaves, nodes and chain) still cannot reproduce a signed root without the server's key."""

    __tablename__ = "ledger_checkpoints"

    organization_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tree_size: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    signature: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    key_id: Mapped[str] = mapped_column(String(16), nullable=False)
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
