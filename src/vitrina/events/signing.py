"""Standard Webhooks signatures (https://www.standardwebhooks.com/).

A delivery carries three headers: ``webhook-id`` (the event id, stable across retries so receivers can
deduplicate), ``webhook-timestamp`` (unix seconds of *this* attempt, so receivers can refuse replays) and
``webhook-signature``: ``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">``, keyed with the base64-decoded
part of the subscription's ``whsec_`` secret. Receivers verify with any Standard Webhooks library.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # the specification asks for 24 to 64 random bytes; 32 matches SHA-256's block strength
SIGNATURE_VERSION = "v1"
DEFAULT_TOLERANCE_SECONDS = 300


class InvalidSignature(Exception):
    """The headers are missing, stale, or no ``v1`` signature matches the body."""


def generate_secret() -> str:
    """A fresh ``whsec_<base64>`` secret, shown to the subscriber once."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def secret_key(whsec: str) -> bytes:
    """The HMAC key inside a ``whsec_`` secret (the prefix is optional, as in the reference libraries)."""
    encoded = whsec.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("a webhook secret must be base64 after its whsec_ prefix") from exc
    if not key:
        raise ValueError("a webhook secret must not be empty")
    return key


def sign(whsec: str, *, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value for one attempt."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(whsec), signed, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode('ascii')}"


def signature_headers(whsec: str, *, msg_id: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The three Standard Webhooks headers for ``body``, timestamped now unless told otherwise."""
    stamp = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": sign(whsec, msg_id=msg_id, timestamp=stamp, body=body),
    }


def verify(whsec: str, *, headers: dict[str, str], body: bytes,
           tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS, now: float | None = None) -> None:
    """Check a delivery as a receiver would (used by the tests and by operators debugging a receiver).

    Raises ``InvalidSignature``; compares in constant time; accepts any one of several space-separated
    signatures (the specification's way of rotating secrets).
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    msg_id, stamp, offered = (lowered.get(h) for h in ("webhook-id", "webhook-timestamp", "webhook-signature"))
    if not (msg_id and stamp and offered):
        raise InvalidSignature("missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        timestamp = int(stamp)
    except ValueError as exc:
        raise InvalidSignature("webhook-timestamp is not an integer") from exc
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_seconds:
        raise InvalidSignature("webhook-timestamp is outside the tolerance")
    expected = sign(whsec, msg_id=msg_id, timestamp=timestamp, body=body).encode()
    for candidate in offered.split():
        if hmac.compare_digest(candidate.encode(), expected):
            return
    raise InvalidSignature("no matching v1 signature")
