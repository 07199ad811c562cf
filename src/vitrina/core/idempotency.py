"""``Idempotency-Key`` for POST and PATCH (Stripe's model).

1. ``claim`` records the key as *in progress* in its own short transaction, so a concurrent retry sees it
   (409 ``IDEMPOTENCY_IN_PROGRESS``) and a retry after completion replays the stored response.
2. The route runs; on success ``complete`` stores the response in the *request's* transaction, so the stored
   response exists exactly when the change does.
3. On failure ``release`` deletes the claim: nothing was applied, so a retry may run again.
A claim left by a crashed process is taken over once it is older than the lock timeout; its transaction
never committed, so re-running cannot apply anything twice.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import timedelta

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from fastapi import Response
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vitrina.core.errors import IdempotencyInProgress, IdempotencyKeyReused, ValidationFailed
from vitrina.core.models import IdempotencyRecord
from vitrina.core.time import utcnow
from vitrina.db.session import Database

MAX_KEY_LENGTH = 255
_NONCE_BYTES = 12
_REPLAYED_HEADERS = ("content-type", "etag", "location", "x-total-count", "link")


@dataclass(frozen=True, slots=True)
class Claim:
    organization_id: str
    key: str


def fingerprint(method: str, path: str, body: bytes, content_type: str | None = None) -> str:
    body = _without_multipart_boundary(body, content_type)
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


def _without_multipart_boundary(body: bytes, content_type: str | None) -> bytes:
    """HTTP clients pick a random multipart boundary per send, so a retried upload differs only in it; hashing
    the body with a fixed boundary lets the retry replay instead of looking like a different request."""
    if not content_type or not content_type.lower().startswith("multipart/"):
        return body
    for parameter in content_type.split(";")[1:]:
        name, _, value = parameter.strip().partition("=")
        if name.lower() == "boundary" and value.strip('"'):
            return body.replace(b"--" + value.strip('"').encode("latin-1"), b"--vitrina-boundary")
    return body


def validate_key(key: str) -> str:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationFailed.field("$header.Idempotency-Key", "must be 1 to 255 printable characters")
    return key


def _cipher(server_secret: str) -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"vitrina idempotency replay v1").derive(
        server_secret.encode())
    return AESGCM(key)


def _seal(server_secret: str, claimed: Claim, body: bytes) -> bytes:
    # Replayed bodies can hold secrets shown once (a new API key's secret, a webhook's whsec_), so they are
    # sealed at rest; the organization and key are bound as associated data.
    nonce = os.urandom(_NONCE_BYTES)
    return nonce + _cipher(server_secret).encrypt(nonce, body, f"{claimed.organization_id}/{claimed.key}".encode())


def _open(server_secret: str, record: IdempotencyRecord) -> bytes:
    sealed = record.body or b""
    return _cipher(server_secret).decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:],
                                          f"{record.organization_id}/{record.key}".encode())


def claim(database: Database, *, organization_id: str, key: str, fingerprint: str,
          lock_seconds: int, ttl_seconds: int, server_secret: str) -> Claim | Response:
    """Claim ``key`` for this request, or return the stored response of a completed earlier request."""
    with database.unit_of_work() as session:
        record = _find(session, organization_id, key)
        now = utcnow()
        if record is not None and record.created_at < now - timedelta(seconds=ttl_seconds):
            session.delete(record)
            session.flush()
            record = None
        if record is None:
            session.add(IdempotencyRecord(organization_id=organization_id, key=key, fingerprint=fingerprint))
            try:
                session.flush()
            except IntegrityError:
                session.rollback()
                raise IdempotencyInProgress() from None
            return Claim(organization_id, key)
        if record.fingerprint != fingerprint:
            raise IdempotencyKeyReused()
        if record.state == "completed":
            return _replay(record, server_secret)
        if record.locked_at > now - timedelta(seconds=lock_seconds):
            raise IdempotencyInProgress()
        record.locked_at = now  # the earlier holder died; take over its claim
        return Claim(organization_id, key)


def complete(session: Session, claimed: Claim, response: Response, *, server_secret: str) -> None:
    record = _find(session, claimed.organization_id, claimed.key)
    if record is None:  # expired and pruned meanwhile: nothing to replay later, which is harmless
        return
    record.state = "completed"
    record.status_code = response.status_code
    record.body = _seal(server_secret, claimed, bytes(response.body))
    record.headers = {k: v for k, v in response.headers.items() if k.lower() in _REPLAYED_HEADERS}


def release(database: Database, claimed: Claim) -> None:
    with database.unit_of_work() as session:
        session.execute(delete(IdempotencyRecord).where(
            IdempotencyRecord.organization_id == claimed.organization_id,
            IdempotencyRecord.key == claimed.key,
            IdempotencyRecord.state == "in_progress",
        ))


def prune(session: Session, *, ttl_seconds: int) -> int:
    cutoff = utcnow() - timedelta(seconds=ttl_seconds)
    result = session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)


def _find(session: Session, organization_id: str, key: str) -> IdempotencyRecord | None:
    return session.scalar(select(IdempotencyRecord).where(
        IdempotencyRecord.organization_id == organization_id, IdempotencyRecord.key == key))


def _replay(record: IdempotencyRecord, server_secret: str) -> Response:
    headers = dict(record.headers or {})
    headers["Idempotent-Replayed"] = "true"
    return Response(_open(server_secret, record), status_code=record.status_code or 200, headers=headers)
