"""What the public verify page needs from the provenance domain, in one place.

The page asks one question, "is this tap genuine, and what piece is it?", through
``vitrina.provenance.service.public_verify(session, *, server_secret, tag_id, tap)``, the same call as
``GET /api/v1/public/verify``; its answer has that endpoint's fields (API.md §7: ``authenticity``, ``product``,
``current_owner``, ``ledger``, ``verified_at``). This module turns that answer into a verdict for people; it decides
nothing about authenticity itself. Until the provenance domain offers that function the page reports that
verification is not available (503), never a verdict.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from vitrina.core.errors import NotFoundError, RateLimited, ServiceUnavailable, ValidationFailed, VitrinaError
from vitrina.web.domains import optional_service

VERIFY_FUNCTION = "public_verify"
MAX_TAG_ID = 128


class VerificationUnavailable(ServiceUnavailable):
    code = "VERIFICATION_UNAVAILABLE"
    default_message = "Verification is not available on this server."


@dataclass(frozen=True, slots=True)
class SunMessage:
    """The tap's one-time signature from the URL (NTAG 424 SUN: PICCData, optional encrypted file data, CMAC)."""

    picc_data: str | None = None
    cmac: str | None = None
    enc: str | None = None


@dataclass(frozen=True, slots=True)
class Piece:
    """The passport fields the page shows; anything the answer leaves out is simply not shown."""

    passport_id: str | None = None
    product_name: str | None = None
    brand: str | None = None
    category: str | None = None
    serial_number: str | None = None
    status: str = "active"
    registered_at: datetime | str | None = None
    transfer_count: int | None = None
    verification_count: int | None = None
    image_url: str | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    headline: str
    explanation: str


# One verdict per outcome, worded for a shopper standing at a counter. Keys are the page's states.
VERDICTS: dict[str, Verdict] = {
    "genuine": Verdict("Genuine", "This tap was signed by the piece's own tag, and the brand's records match it."),
    "unverified": Verdict("Tag found, not checked", "This link names a registered piece but carries no tag "
                          "signature, so it proves nothing by itself. Tap the tag with your phone to check it."),
    "replayed": Verdict("Copied link", "This link was already used. A genuine tag makes a new link on every tap, "
                        "so this one was copied or replayed. Tap the piece's tag itself to check it."),
    "invalid": Verdict("Not genuine", "The tag's signature does not match. This tag or link was not made by the "
                       "brand; do not rely on it."),
    "flagged": Verdict("Reported stolen or lost", "The owner or the brand reported this piece. If it is offered "
                       "to you, please contact the brand."),
    "unknown": Verdict("Unknown tag", "No piece is registered with this tag."),
    "throttled": Verdict("Too many checks", "Too many checks came from this network; wait a minute and tap "
                         "again."),
    "unavailable": Verdict("Verification unavailable", "This server cannot check tags right now. Nothing can be "
                           "said about this piece from here; try again later."),
}
# The API's ``authenticity`` values and the page state each one shows.
AUTHENTICITY_STATES = {"confirmed": "genuine", "unverified": "unverified", "replayed": "replayed",
                       "invalid": "invalid", "flagged": "flagged", "unknown": "unknown"}
STATE_STATUS = {"unknown": 404, "throttled": 429, "unavailable": 503}


@dataclass(frozen=True, slots=True)
class Outcome:
    state: str
    product: Piece | None = None
    current_owner: str | None = None
    verified_at: Any = None
    ledger: Mapping[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def status(self) -> int:
        return STATE_STATUS.get(self.state, 200)

    @classmethod
    def failed(cls, error: VitrinaError) -> Outcome:
        """The verdict for a check that could not complete: a bad URL reads as not genuine, never as an error."""
        if isinstance(error, RateLimited):
            return cls("throttled", headers=dict(error.headers))
        if isinstance(error, ServiceUnavailable):
            return cls("unavailable")
        if isinstance(error, NotFoundError):
            return cls("unknown")
        return cls("invalid")


def check_tag_id(tag_id: str) -> None:
    if not tag_id or len(tag_id) > MAX_TAG_ID or not tag_id.isprintable() or any(c.isspace() for c in tag_id):
        raise ValidationFailed.field("$.tag_id", f"must be 1 to {MAX_TAG_ID} printable characters")


def _get(source: Any, name: str) -> Any:
    if source is None:
        return None
    if isinstance(source, Mapping):
        return source.get(name)
    return getattr(source, name, None)


def _piece(product: Any) -> Piece | None:
    if product is None:
        return None
    metadata = _get(product, "metadata") or {}
    return Piece(
        passport_id=_get(product, "id"), product_name=_get(product, "product_name") or _get(product, "name"),
        brand=_get(product, "brand"),
        category=_get(product, "category"), serial_number=_get(product, "serial_number"),
        status=_get(product, "status") or "active", registered_at=_get(product, "registered_at"),
        transfer_count=_get(product, "transfer_count"), verification_count=_get(product, "verification_count"),
        image_url=_get(product, "image_url") or _get(metadata, "image_url"))


def outcome_of(answer: Any) -> Outcome:
    """The page's outcome from the provenance answer (the public verify JSON's fields)."""
    state = AUTHENTICITY_STATES.get(str(_get(answer, "authenticity")), "invalid")
    ledger = _get(answer, "ledger")
    owner = _get(answer, "current_owner_masked") or _get(answer, "current_owner")
    return Outcome(state=state, product=_piece(_get(answer, "product")), current_owner=owner,
                   verified_at=_get(answer, "verified_at"),
                   ledger=ledger if isinstance(ledger, Mapping) and "leaf_index" in ledger else None)


def verify(session: Session, *, server_secret: str, tag_id: str, message: SunMessage) -> Outcome:
    provenance = optional_service("provenance", VERIFY_FUNCTION)
    if provenance is None:
        raise VerificationUnavailable()
    tap = provenance.TapInput(picc_data=message.picc_data, enc=message.enc, cmac=message.cmac)
    answer = provenance.public_verify(session, server_secret=server_secret, tag_id=tag_id, tap=tap)
    return outcome_of(answer)


def photo_url(piece: Piece | None) -> str | None:
    """The piece's photo when it is served by this site (the page's policy loads images from itself only)."""
    url = piece.image_url if piece else None
    if isinstance(url, str) and url.startswith("/") and not url.startswith("//") and "\\" not in url:
        return url
    return None
