"""Staff accounts of the web back office and their sign-in sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vitrina.accounts.models import Organization
from vitrina.core.time import utcnow
from vitrina.db.base import Base, OrgScoped, Timestamped
from vitrina.db.types import UTCDateTime

OWNER, MANAGER, CLERK = "owner", "manager", "clerk"
# A role is a bundle of the API's scopes, so a page and an API key with the same scope may do the same things.
ROLE_SCOPES: dict[str, tuple[str, ...]] = {
    OWNER: ("read", "write", "admin"),
    MANAGER: ("read", "write"),
    CLERK: ("read",),
}
ROLES = tuple(ROLE_SCOPES)


class User(OrgScoped, Timestamped, Base):
    """A person who signs in to the back office. ``email`` is unique across organizations: it alone names
    the account on the sign-in form."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    organization_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("organizations.id", ondelete="CASCADE"), index=True, nullable=False)
    email: Mapped[str] = mapped_column(String(254), unique=True, nullable=False)
    name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organization: Mapped[Organization] = relationship(lazy="joined")

    @property
    def scopes(self) -> tuple[str, ...]:
        return ROLE_SCOPES.get(self.role, ())


class WebSession(OrgScoped, Base):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 digest is stored (``id``), so a
    copy of the database cannot be replayed as cookies. Signing out deletes the row."""

    __tablename__ = "web_sessions"
    __table_args__ = (Index("ix_web_sessions_user", "user_id"), Index("ix_web_sessions_expires", "expires_at"))

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    csrf_token: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    user_agent: Mapped[str | None] = mapped_column(String(300))
    address: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User] = relationship(lazy="joined")
