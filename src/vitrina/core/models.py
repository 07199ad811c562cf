"""Tables owned by the shared machinery: the event outbox and idempotency records."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from vitrina.core.time import utcnow
from vitrina.db.base import Base, OrgScoped
from vitrina.db.types import JSONType, UTCDateTime

# SQLite only auto-increments an INTEGER PRIMARY KEY, so the outbox sequence is BIGINT only on PostgreSQL.
SequenceType = BigInteger().with_variant(Integer(), "sqlite")


class OutboxEvent(OrgScoped, Base):
    """One domain event, written in the same transaction as the change it reports.

    ``seq`` is the commit-order cursor the webhook worker and the live stream read from; ``id`` is the
    public ``evt_`` id that webhook receivers see as ``webhook-id``.
    """

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_org_seq", "organization_id", "seq"),
                      Index("ix_events_org_type_created", "organization_id", "type", "created_at"))

    seq: Mapped[int] = mapped_column(SequenceType, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    type: Mapped[str] = mapped_column(String(64), nullable=False)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    actor: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class IdempotencyRecord(OrgScoped, Base):
    """The stored outcome of a request sent with ``Idempotency-Key``.

    A row starts ``in_progress`` (committed on its own, so a concurrent retry sees it) and becomes
    ``completed`` in the same transaction as the request's changes, so a replay never disagrees with the data.
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("organization_id", "key"),)

    id: Mapped[int] = mapped_column(SequenceType, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(255), nullable=False)
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False, default="in_progress")
    status_code: Mapped[int | None] = mapped_column(Integer)
    headers: Mapped[dict[str, str] | None] = mapped_column(JSONType)
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    locked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False, index=True)


class AuditEntry(OrgScoped, Base):
    """Who changed what: one row per successful write request, readable by admins."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_org_created", "organization_id", "created_at"),)

    id: Mapped[int] = mapped_column(SequenceType, primary_key=True, autoincrement=True)
    actor: Mapped[str | None] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(8), nullable=False)
    path: Mapped[str] = mapped_column(Text, nullable=False)
    status_code: Mapped[int] = mapped_column(Integer, nullable=False)
    request_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
