"""Organizations and their API credentials."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vitrina.db.base import Base, OrgScoped, Timestamped
from vitrina.db.types import JSONType, UTCDateTime


class Organization(Timestamped, Base):
    __tablename__ = "organizations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    plan: Mapped[str] = mapped_column(String(20), nullable=False, default="essential")
    # Only for the enterprise plan: requests per minute chosen by the operator.
    rate_limit_per_minute: Mapped[int | None] = mapped_column(Integer)
    default_currency: Mapped[str] = mapped_column(String(3), nullable=False, default="USD")


class ApiKey(OrgScoped, Timestamped, Base):
    """An API credential. The secret is stored only as a SHA-256 digest (it is 256 random bits, so a slow
    password hash adds nothing but latency to every request)."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    organization_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("organizations.id", ondelete="CASCADE"), index=True, nullable=False
    )
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    api_key: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    secret_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    scopes: Mapped[list[str]] = mapped_column(JSONType, nullable=False)
    mode: Mapped[str] = mapped_column(String(4), nullable=False, default="live")
    plan: Mapped[str | None] = mapped_column(String(20))
    tier_id: Mapped[str | None] = mapped_column(String(32))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organization: Mapped[Organization] = relationship(lazy="joined")
