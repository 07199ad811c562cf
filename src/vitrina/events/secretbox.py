"""Webhook signing secrets at rest: AES-256-GCM under a key derived from the server secret.

Unlike API secrets, a webhook secret cannot be stored as a hash: the worker needs it to compute HMACs. It is
sealed with a key derived (HKDF-SHA256) from ``VITRINA_SECRET_KEY``, with the subscription id as associated
data, so a sealed value copied onto another subscription does not open. Losing or changing the server secret
makes existing webhook secrets unreadable (subscribers then need a new subscription).
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

VERSION = "v1"
_NONCE_BYTES = 12
_INFO = b"vitrina webhook signing secrets v1"


class SecretUnreadable(Exception):
    """The sealed value was not made with this server secret for this subscription."""


def _key(server_secret: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(server_secret.encode())


def seal(server_secret: str, *, subscription_id: str, plaintext: str) -> str:
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(_key(server_secret)).encrypt(nonce, plaintext.encode(), subscription_id.encode())
    return f"{VERSION}:{base64.b64encode(nonce + sealed).decode('ascii')}"


def unseal(server_secret: str, *, subscription_id: str, sealed: str) -> str:
    version, _, payload = sealed.partition(":")
    if version != VERSION:
        raise SecretUnreadable(f"unknown sealing version {version!r}")
    try:
        raw = base64.b64decode(payload, validate=True)
        opened = AESGCM(_key(server_secret)).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:],
                                                     subscription_id.encode())
    except (InvalidTag, ValueError) as exc:
        raise SecretUnreadable("the webhook secret cannot be opened with this server secret") from exc
    return opened.decode()
