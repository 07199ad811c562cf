"""Passing a piece on from its public verify page: the owner starts a transfer, the recipient accepts it.

A shopper has no account, so the page asks for two things instead:

* **the piece in hand, now**: only a Genuine verdict (a fresh tap signed by the chip) hands out a *tap pass*, a
  short-lived signed token naming the tag and passport. A copied link reads as Copied and gets none, so a link
  found in someone's history cannot start or accept anything. The pass is also the forms' CSRF token: another
  site cannot read it.
* to start a transfer, **the owner on record**, typed in full (the page shows it masked). A piece the store still
  owns changes hands by a sale at the counter, not here.

The transfer itself (claim code, 7-day expiry, one pending per passport, flagged pieces refused) is the provenance
domain's ``create_transfer`` / ``confirm_transfer``, the same calls as ``POST /api/v1/transfers``; this module
decides only who may ask for it on a public page.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from vitrina.core.errors import ForbiddenError, ValidationFailed
from vitrina.core.pagination import Page
from vitrina.web.domains import optional_service
from vitrina.web.masking import mask_owner

if TYPE_CHECKING:  # the provenance domain is optional at run time
    from vitrina.provenance.service import PassportHolder

TAP_PASS_SECONDS = 15 * 60
TRANSFER_FUNCTIONS = ("create_transfer", "confirm_transfer", "list_transfers", "passport_holder")
MAX_OWNER = 200
MAX_MESSAGE = 500


class TapPassInvalid(ForbiddenError):
    code = "TAP_PASS_INVALID"
    default_message = "This page has expired. Tap the piece's tag again to continue."


class NotTheOwner(ForbiddenError):
    code = "NOT_THE_OWNER"
    default_message = "That is not the owner on record for this piece."


class StoreOwned(ForbiddenError):
    code = "STORE_OWNED"
    default_message = "This piece still belongs to the store; it passes to its first owner when it is sold."


@dataclass(frozen=True, slots=True)
class TapPass:
    tag_id: str
    passport_id: str
    issued_at: int


@dataclass(frozen=True, slots=True)
class PendingTransfer:
    id: str
    to_owner_masked: str | None
    expires_at: Any


def available() -> bool:
    return optional_service("provenance", *TRANSFER_FUNCTIONS) is not None


def _provenance() -> Any:
    module = optional_service("provenance", *TRANSFER_FUNCTIONS)
    if module is None:
        raise TapPassInvalid("Transfers are not available on this server.")
    return module


# --- the tap pass ---------------------------------------------------------------------------------------------

def _mac(secret: str, text: str) -> str:
    key = hmac.new(secret.encode(), b"vitrina/tap-pass/v1", hashlib.sha256).digest()
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def issue_pass(secret: str, *, tag_id: str, passport_id: str, now: float | None = None) -> str:
    issued = int(now if now is not None else time.time())
    body = f"{passport_id}.{issued}"
    return f"{body}.{_mac(secret, f'{tag_id}|{body}')}"


def read_pass(secret: str, token: str | None, *, tag_id: str, now: float | None = None) -> TapPass:
    """The pass if it was issued by this server for this tag within ``TAP_PASS_SECONDS``; else TapPassInvalid."""
    passport_id, issued, mac = (token or "").rsplit(".", 2) if (token or "").count(".") >= 2 else ("", "", "")
    if not issued.isdigit() or not hmac.compare_digest(mac, _mac(secret, f"{tag_id}|{passport_id}.{issued}")):
        raise TapPassInvalid()
    age = int(now if now is not None else time.time()) - int(issued)
    if not 0 <= age <= TAP_PASS_SECONDS:
        raise TapPassInvalid()
    return TapPass(tag_id=tag_id, passport_id=passport_id, issued_at=int(issued))


# --- who may ask ----------------------------------------------------------------------------------------------

def _normalized(text: str | None) -> str:
    return " ".join((text or "").split()).casefold()


def is_owner(holder: PassportHolder, typed: str) -> bool:
    """The typed owner matches the record (its id, or the name kept with it), ignoring case and spacing."""
    wanted = _normalized(typed)
    known = {_normalized(holder.current_owner), _normalized(holder.current_owner_name)} - {""}
    return bool(wanted) and any(hmac.compare_digest(wanted.encode(), value.encode()) for value in known)


def _holder(session: Session, tap_pass: TapPass) -> PassportHolder:
    holder = _provenance().passport_holder(session, passport_id=tap_pass.passport_id)
    if holder is None:
        raise TapPassInvalid()
    return holder


def _text(value: str | None, path: str, limit: int, *, required: bool) -> str | None:
    value = (value or "").strip()
    if required and not value:
        raise ValidationFailed.field(path, "is required")
    if len(value) > limit:
        raise ValidationFailed.field(path, f"must be at most {limit} characters")
    return value or None


# --- what the page offers and does ----------------------------------------------------------------------------

def pending_transfer(session: Session, *, passport_id: str) -> PendingTransfer | None:
    """The passport's pending transfer, if any (what the recipient accepts on the page)."""
    if not available():
        return None
    holder = _provenance().passport_holder(session, passport_id=passport_id)
    if holder is None:
        return None
    found, _ = _provenance().list_transfers(session, organization_id=holder.organization_id,
                                            page=Page(limit=1, offset=0), passport_id=passport_id,
                                            status="pending")
    if not found:
        return None
    return PendingTransfer(id=found[0].id, to_owner_masked=mask_owner(found[0].to_owner),
                           expires_at=found[0].expires_at)


def owned_by_store(session: Session, *, passport_id: str) -> bool | None:
    """True while the brand itself owns the piece (not sold yet), False once a person does; None if unknown."""
    holder = _provenance().passport_holder(session, passport_id=passport_id) if available() else None
    return None if holder is None else holder.current_owner == holder.organization_id


def start(session: Session, *, tap_pass: TapPass, owner: str | None, to_owner: str | None,
          message: str | None) -> str:
    """Start the transfer; returns the claim code (shown once, to the owner)."""
    typed_owner = _text(owner, "$.owner", MAX_OWNER, required=True) or ""
    recipient = _text(to_owner, "$.to_owner", MAX_OWNER, required=True) or ""
    note = _text(message, "$.message", MAX_MESSAGE, required=False)
    holder = _holder(session, tap_pass)
    if holder.current_owner == holder.organization_id:
        raise StoreOwned()
    if not is_owner(holder, typed_owner):
        raise NotTheOwner(details={"path": "$.owner"})
    _, code = _provenance().create_transfer(session, organization_id=holder.organization_id,
                                            passport_id=holder.passport_id, to_owner=recipient, message=note)
    return str(code)


def accept(session: Session, *, tap_pass: TapPass, transfer_id: str | None, claim_code: str | None) -> None:
    """The recipient confirms the pending transfer with the claim code the owner gave them."""
    code = _text(claim_code, "$.claim_code", 64, required=True) or ""
    wanted = _text(transfer_id, "$.transfer_id", 64, required=True)
    holder = _holder(session, tap_pass)
    pending = pending_transfer(session, passport_id=holder.passport_id)
    if pending is None or pending.id != wanted:  # only this piece's pending transfer, whatever the form says
        raise ValidationFailed.field("$.transfer_id", "no transfer of this piece is waiting")
    _provenance().confirm_transfer(session, organization_id=holder.organization_id, transfer_id=pending.id,
                                   claim_code=code)
