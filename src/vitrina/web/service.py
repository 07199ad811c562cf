"""Staff users and their browser sessions: creation, sign-in, session lookup, sign-out.

Like every service: session first, keyword-only arguments, flush but never commit. Throttling of sign-in
attempts is the caller's concern (it needs the client's address), see ``vitrina.web.security``.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vitrina.accounts.models import Organization
from vitrina.accounts.plans import rate_limit_for
from vitrina.core.auth import Principal
from vitrina.core.errors import ValidationFailed
from vitrina.core.ids import new_id
from vitrina.core.time import utcnow
from vitrina.web import passwords
from vitrina.web.errors import InvalidSignIn, UserExists, UserNotFound
from vitrina.web.models import ROLES, User, WebSession

SESSION_LIFETIME = timedelta(hours=12)


def normalize_email(email: str) -> str:
    return email.strip().lower()


def _check_email(email: str) -> str:
    email = normalize_email(email)
    local, at, domain = email.partition("@")
    if not at or not local or "." not in domain or len(email) > 254 or any(c.isspace() for c in email):
        raise ValidationFailed.field("$.email", "must be an email address")
    return email


def create_user(session: Session, *, organization_id: str, email: str, password: str, role: str,
                name: str | None = None) -> User:
    """A new staff account. 409 USER_EXISTS when the email is taken (in any organization)."""
    email = _check_email(email)
    if role not in ROLES:
        raise ValidationFailed.field("$.role", f"must be one of {', '.join(ROLES)}")
    problem = passwords.check_strength(password)
    if problem:
        raise ValidationFailed.field("$.password", problem)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise UserExists(details={"email": email})
    if session.get(Organization, organization_id) is None:
        raise ValidationFailed.field("$.organization_id", "no such organization")
    user = User(id=new_id("usr"), organization_id=organization_id, email=email, name=name, role=role,
                password_hash=passwords.hash_password(password))
    session.add(user)
    try:
        session.flush()
    except IntegrityError as exc:  # two creations racing for one email
        raise UserExists(details={"email": email}) from exc
    return user


def list_users(session: Session, *, organization_id: str) -> list[User]:
    return list(session.scalars(select(User).where(User.organization_id == organization_id).order_by(User.id)))


def get_user(session: Session, *, organization_id: str, user_id: str) -> User:
    user = session.scalar(select(User).where(User.organization_id == organization_id, User.id == user_id))
    if user is None:
        raise UserNotFound()
    return user


def email_taken(session: Session, *, email: str) -> bool:
    """Whether any organization's user has this email: sign-in emails are unique across organizations, so the
    check reads the table itself, outside an organization-bound session's automatic filter."""
    users = User.__table__.c
    found = session.scalar(select(users.id).where(users.email == normalize_email(email)))
    return found is not None


def set_password(session: Session, *, organization_id: str, user_id: str, password: str) -> User:
    """Replace a user's password and end all their sessions (a reset must lock out whoever knew the old one)."""
    problem = passwords.check_strength(password)
    if problem:
        raise ValidationFailed.field("$.password", problem)
    user = get_user(session, organization_id=organization_id, user_id=user_id)
    user.password_hash = passwords.hash_password(password)
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    session.flush()
    return user


def authenticate(session: Session, *, email: str, password: str) -> User:
    """The active user with this email and password, or INVALID_SIGN_IN (one error for every kind of failure,
    and the same time spent whether or not the email exists)."""
    user = session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None or len(password) > passwords.MAX_LENGTH:
        passwords.burn_verification_time(password[: passwords.MAX_LENGTH])
        raise InvalidSignIn()
    if not passwords.verify_password(user.password_hash, password) or user.disabled_at is not None:
        raise InvalidSignIn()
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    return user


@dataclass(frozen=True, slots=True)
class OpenedSession:
    """A session just opened: ``token`` goes into the cookie and exists nowhere else."""

    record: WebSession
    token: str


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(session: Session, *, user: User, user_agent: str | None, address: str | None) -> OpenedSession:
    now = utcnow()
    token = secrets.token_urlsafe(32)
    record = WebSession(id=token_digest(token), organization_id=user.organization_id, user_id=user.id,
                        csrf_token=secrets.token_urlsafe(32), created_at=now, expires_at=now + SESSION_LIFETIME,
                        user_agent=(user_agent or "")[:300] or None, address=(address or "")[:64] or None)
    user.last_sign_in_at = now
    session.add(record)
    session.flush()
    return OpenedSession(record=record, token=token)


def session_for_token(session: Session, *, token: str) -> WebSession | None:
    """The live session a cookie names, or None (unknown, expired, or its user disabled)."""
    if not token or len(token) > 100:
        return None
    record = session.scalar(select(WebSession).where(WebSession.id == token_digest(token)))
    if record is None or record.expires_at <= utcnow() or record.user.disabled_at is not None:
        return None
    return record


def close_session(session: Session, *, token: str) -> None:
    session.execute(delete(WebSession).where(WebSession.id == token_digest(token)))


def prune_sessions(session: Session) -> int:
    result = session.execute(delete(WebSession).where(WebSession.expires_at <= utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)


def principal_for(user: User) -> Principal:
    """The same identity the API uses, so services, events and the audit trail see the person as the actor."""
    organization = user.organization
    return Principal(
        organization_id=user.organization_id, key_id=user.id, scopes=user.scopes, plan=organization.plan,
        rate_limit=rate_limit_for(organization.plan, organization.rate_limit_per_minute), tier_id=None,
        mode="live", user_id=user.id,
    )
