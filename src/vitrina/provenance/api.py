"""Routes of API.md §7: passports, verification, transfers and the verifiable ledger. Thin: parse, call the
service, shape the response."""

from __future__ import annotations

import ipaddress
import time
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Query, Request, Response
from limits import RateLimitItemPerMinute
from limits.strategies import SlidingWindowCounterRateLimiter

from vitrina.accounts.plans import RateLimit
from vitrina.core.auth import ReadPrincipal, WritePrincipal
from vitrina.core.errors import RateLimited, ValidationFailed
from vitrina.core.pagination import PageQuery
from vitrina.core.responses import Envelope, ListEnvelope, bare, created, ok, paginated
from vitrina.core.routing import api_router
from vitrina.db.session import DbSession
from vitrina.provenance import epcis, ledger, service
from vitrina.provenance.errors import TooManyClaimAttempts
from vitrina.provenance.schemas import (
    CheckpointOut,
    ConfirmIn,
    ConsistencyOut,
    FlagIn,
    InclusionOut,
    LedgerKeysOut,
    PassportCreate,
    PassportLink,
    PassportOut,
    TransferCreate,
    TransferOut,
    VerifyIn,
    VerifyOut,
)

router = api_router(tags=["provenance"])
root_router = api_router(tags=["provenance"])
CLAIM_ATTEMPTS = RateLimitItemPerMinute(5)  # wrong codes per transfer: a 12-character code cannot be guessed so
_NO_NUL = r"^[^\x00]*$"


def startup(app: FastAPI) -> None:
    service.configure(app.state.settings.signing_secret)


def _secret(request: Request) -> str:
    return str(request.app.state.settings.signing_secret)


def client_address(request: Request) -> str:
    """The caller's address. Behind a proxy on the same host (or the in-process test transport) the nearest
    ``X-Forwarded-For`` hop names the client; uvicorn already applies it for proxies it trusts."""
    peer = request.client.host if request.client else ""
    forwarded = request.headers.get("x-forwarded-for", "")
    try:
        trusted_peer = ipaddress.ip_address(peer).is_loopback
    except ValueError:
        trusted_peer = True  # not an IP at all: an in-process transport, not a network peer
    if forwarded and trusted_peer:
        return forwarded.split(",")[-1].strip()[:64] or peer or "unknown"
    return peer or "unknown"


def _limit(request: Request, identifier: str, limit: RateLimit, error: type[RateLimited] = RateLimited) -> None:
    settings = request.app.state.settings
    if not settings.rate_limits_enabled:
        return
    state = request.app.state.rate_limiter.hit(identifier, limit)
    request.state.rate_limit_headers = state.headers()
    if not state.allowed:
        raise error(headers={"Retry-After": str(max(state.reset_at - int(time.time()), 1))})


def limit_public_verify(request: Request) -> None:
    """Public verification: ``public_verify_rate_per_minute`` per client address (429 beyond)."""
    per_minute = request.app.state.settings.public_verify_rate_per_minute
    _limit(request, f"public-verify:{client_address(request)}", RateLimit(per_minute, per_minute))


# --- passports ----------------------------------------------------------------------------------------------------

@router.post("/passports", status_code=201, response_model=Envelope[PassportOut], summary="Register a passport",
             description="TAG IT's body (snake_case or camelCase). `tag_id` is unique per organization (409 "
                         "`TAG_ID_TAKEN`). NTAG 424 DNA tags add `sun` (UID and optional keys; keys left out are "
                         "diversified from the organization's master key). Keys are sealed and never returned.")
def create_passport(body: PassportCreate, request: Request, session: DbSession, principal: WritePrincipal) -> Response:
    passport = service.register_passport(
        session, organization_id=principal.organization_id, server_secret=_secret(request), tag_id=body.tag_id,
        product_name=body.product_name, brand=body.brand, serial_number=body.serial_number, category=body.category,
        metadata=body.metadata, inventory_id=body.inventory_id, owner=body.owner,
        sun=body.sun.model_dump() if body.sun else None, signature_public_key=body.signature_public_key)
    return created(service.passport_dict(passport), etag=passport.version)


@router.get("/passports", response_model=ListEnvelope[PassportOut], summary="List passports",
            description="Filters: `tag_id`, `status`, `owner` (current owner), `inventory_id`.")
def list_passports(request: Request, session: DbSession, principal: ReadPrincipal, page: PageQuery,
                   tag_id: Annotated[str | None, Query(max_length=128, pattern=_NO_NUL)] = None,
                   status: Literal["active", "stolen", "lost", "destroyed"] | None = None,
                   owner: Annotated[str | None, Query(max_length=255, pattern=_NO_NUL)] = None,
                   inventory_id: Annotated[str | None, Query(max_length=100, pattern=_NO_NUL)] = None) -> Response:
    found, total = service.list_passports(session, organization_id=principal.organization_id, page=page,
                                          tag_id=tag_id, status=status, owner=owner, inventory_id=inventory_id)
    return paginated(request, [service.passport_dict(p) for p in found], total, page)


@router.post("/passports/verify", response_model=Envelope[VerifyOut], summary="Verify a tag",
             description="With `tag_id` the tag's own keys check the SUN message (`picc_data`, `cmac`, optional "
                         "`enc`) or the Ed25519 `signature` over `tag_id|timestamp`; without it the organization's "
                         "meta-read key decrypts the PICCData and its UID finds the passport. `authenticity` is "
                         "confirmed, unverified (no signature sent), replayed (counter not above the last accepted), "
                         "invalid (bad MAC), flagged or unknown. Every verification is a ledger event.")
def verify(body: VerifyIn, request: Request, session: DbSession, principal: WritePrincipal) -> Response:
    tap = service.TapInput(picc_data=body.picc_data, enc=body.enc, cmac=body.cmac, signature=body.signature,
                           timestamp=body.timestamp)
    return ok(service.verify(session, organization_id=principal.organization_id, server_secret=_secret(request),
                             tag_id=body.tag_id, tap=tap))


@router.get("/passports/{passport_id}", response_model=Envelope[PassportOut], summary="Get a passport")
def get_passport(passport_id: str, session: DbSession, principal: ReadPrincipal) -> Response:
    passport = service.get_passport(session, organization_id=principal.organization_id, passport_id=passport_id)
    return ok(service.passport_dict(passport), etag=passport.version)


@router.post("/passports/{passport_id}/flag", response_model=Envelope[PassportOut],
             summary="Flag a piece stolen, lost or destroyed (or active when recovered)",
             description="Verification of a flagged piece answers `flagged`; transfers are refused (409).")
def flag_passport(passport_id: str, body: FlagIn, session: DbSession, principal: WritePrincipal) -> Response:
    passport = service.flag_passport(session, organization_id=principal.organization_id, passport_id=passport_id,
                                     status=body.status, note=body.note, actor=principal.actor)
    return ok(service.passport_dict(passport), etag=passport.version)


@router.post("/passports/{passport_id}/link", response_model=Envelope[PassportOut],
             summary="Link a passport to a serialized inventory piece",
             description="A later sale of that piece to a customer makes the customer the owner on the ledger.")
def link_passport(passport_id: str, body: PassportLink, session: DbSession, principal: WritePrincipal) -> Response:
    passport = service.link_inventory(session, organization_id=principal.organization_id, passport_id=passport_id,
                                      inventory_id=body.inventory_id)
    return ok(service.passport_dict(passport), etag=passport.version)


@router.get("/passports/{passport_id}/epcis", summary="EPCIS 2.0 history of a passport",
            description="A GS1 EPCIS 2.0 JSON-LD `EPCISDocument` (bare, not enveloped): commissioning, inspecting, "
                        "retail_selling and ownership transfers (source/destination `owning_party`).",
            response_model=dict[str, Any],
            responses={200: {"content": {"application/ld+json": {"schema": {"type": "object"}}}}})
def passport_epcis(passport_id: str, session: DbSession, principal: ReadPrincipal) -> Response:
    passport = service.get_passport(session, organization_id=principal.organization_id, passport_id=passport_id)
    response = bare(epcis.document(session, passport))
    response.headers["Content-Type"] = "application/ld+json"
    return response


# --- public verification ------------------------------------------------------------------------------------------

@router.get("/public/verify", response_model=Envelope[VerifyOut], summary="Verify a tap (public, no key)",
            description="What a shopper's phone checks: `tag_id` with `picc_data`/`e`, `cmac`/`c` and optional "
                        "`enc`. Replayed, invalid and flagged results are 200 answers saying so. Rate limited per "
                        "client address (429 with Retry-After).")
def public_verify(request: Request,
                  tag_id: Annotated[str, Query(min_length=1, max_length=128, pattern=r"^[^\x00/?#\s]+$")],
                  picc_data: Annotated[str | None, Query(max_length=64)] = None,
                  e: Annotated[str | None, Query(max_length=64)] = None,
                  enc: Annotated[str | None, Query(max_length=512)] = None,
                  cmac: Annotated[str | None, Query(max_length=64)] = None,
                  c: Annotated[str | None, Query(max_length=64)] = None) -> Response:
    limit_public_verify(request)
    tap = service.TapInput(picc_data=picc_data or e or None, enc=enc or None, cmac=cmac or c or None)
    # A GET that writes (read counter, count, ledger leaf): its own writing unit of work, not the reader's.
    with request.app.state.db.unit_of_work() as session:
        answer = service.public_verify(session, server_secret=_secret(request), tag_id=tag_id, tap=tap)
    answer["current_owner"] = mask_owner(answer.get("current_owner"))
    return ok(answer)


def mask_owner(owner: str | None) -> str | None:
    """A shopper sees that an owner is registered, not who it is."""
    if not owner:
        return None
    return owner[:4] + "…" + owner[-2:] if len(owner) > 8 else "…"


# --- transfers ----------------------------------------------------------------------------------------------------

@router.post("/transfers", status_code=201, response_model=Envelope[TransferOut], summary="Start a transfer",
             description="Pending for 7 days; the `claim_code` is shown only in this response, for the sender to "
                         "hand to the recipient. One pending transfer per passport (409 `TRANSFER_PENDING`). While "
                         "the organization (or its customer, by a sale) owns the piece its key suffices; once a "
                         "transfer has made someone else the owner, `owner_claim_code` (the code that confirmed that "
                         "transfer) must come too (422 `$.owner_claim_code` otherwise; 5 wrong codes a minute: 429).")
def create_transfer(body: TransferCreate, request: Request, session: DbSession,
                    principal: WritePrincipal) -> Response:
    guard = _ClaimGuard(request, f"owner-claim:{principal.organization_id}:{body.passport_id}")
    guard.refuse_if_blocked()
    try:
        transfer, code = service.create_transfer(session, organization_id=principal.organization_id,
                                                 passport_id=body.passport_id, to_owner=body.to_owner,
                                                 message=body.message, owner_claim_code=body.owner_claim_code,
                                                 owner_vouched=False)
    except ValidationFailed:
        guard.count_failure()
        raise
    return created(service.transfer_dict(transfer, claim_code=code))


@router.get("/transfers", response_model=ListEnvelope[TransferOut], summary="List transfers",
            description="Filters: `passport_id`, `status` (pending, completed, cancelled, expired).")
def list_transfers(request: Request, session: DbSession, principal: ReadPrincipal, page: PageQuery,
                   passport_id: Annotated[str | None, Query(max_length=64, pattern=_NO_NUL)] = None,
                   status: Literal["pending", "completed", "cancelled", "expired"] | None = None) -> Response:
    found, total = service.list_transfers(session, organization_id=principal.organization_id, page=page,
                                          passport_id=passport_id, status=status)
    return paginated(request, [service.transfer_dict(t) for t in found], total, page)


@router.post("/transfers/{transfer_id}/confirm", response_model=Envelope[TransferOut], summary="Confirm a transfer",
             description="With the recipient's `claim_code`: the owner changes. A wrong code is 422; after 5 wrong "
                         "codes in a minute the transfer answers 429 (even to the right code) until the minute "
                         "passes. Expired or finished transfers are 409.")
def confirm_transfer(transfer_id: str, body: ConfirmIn, request: Request, session: DbSession,
                     principal: WritePrincipal) -> Response:
    guard = _ClaimGuard(request, f"claim:{principal.organization_id}:{transfer_id}")
    guard.refuse_if_blocked()
    try:
        transfer = service.confirm_transfer(session, organization_id=principal.organization_id,
                                            transfer_id=transfer_id, claim_code=body.claim_code)
    except ValidationFailed:
        guard.count_failure()
        raise
    return ok(service.transfer_dict(transfer))


class _ClaimGuard:
    """Counts only wrong claim codes (so racing confirmations with the right code are not throttled), in the
    app's rate-limit storage (shared across processes with Redis)."""

    def __init__(self, request: Request, identifier: str) -> None:
        self.enabled = bool(request.app.state.settings.rate_limits_enabled)
        self.limiter = SlidingWindowCounterRateLimiter(request.app.state.rate_limiter.storage)
        self.identifier = identifier

    def refuse_if_blocked(self) -> None:
        if self.enabled and not self.limiter.test(CLAIM_ATTEMPTS, self.identifier):
            reset = self.limiter.get_window_stats(CLAIM_ATTEMPTS, self.identifier).reset_time
            raise TooManyClaimAttempts(headers={"Retry-After": str(max(int(reset - time.time()) + 1, 1))})

    def count_failure(self) -> None:
        if self.enabled:
            self.limiter.hit(CLAIM_ATTEMPTS, self.identifier)


@router.post("/transfers/{transfer_id}/cancel", response_model=Envelope[TransferOut], summary="Cancel a transfer")
def cancel_transfer(transfer_id: str, session: DbSession, principal: WritePrincipal) -> Response:
    transfer = service.cancel_transfer(session, organization_id=principal.organization_id, transfer_id=transfer_id)
    return ok(service.transfer_dict(transfer))


# --- ledger -------------------------------------------------------------------------------------------------------

@router.get("/ledger/checkpoints/latest", response_model=Envelope[CheckpointOut], summary="Latest signed checkpoint",
            description="C2SP tlog-checkpoint text `vitrina/<organization_id>\\n<size>\\n<base64 root>\\n` and its "
                        "base64 Ed25519 signature (keys at `/.well-known/vitrina/ledger-keys`). Each checkpoint "
                        "handed out is kept, and `vitrina check` proves the ledger still matches it.")
def latest_checkpoint(request: Request, principal: ReadPrincipal) -> Response:
    # A GET that records what it signs (for ``vitrina check``): its own writing unit of work.
    with request.app.state.db.unit_of_work(organization_id=principal.organization_id) as session:
        return ok(ledger.issue_checkpoint(session, organization_id=principal.organization_id,
                                          server_secret=_secret(request)))


@router.get("/ledger/proof", response_model=Envelope[InclusionOut], summary="RFC 9162 inclusion proof",
            description="`tree_size` defaults to the latest checkpoint's. All hashes base64.")
def inclusion_proof(session: DbSession, principal: ReadPrincipal,
                    leaf_index: Annotated[int, Query(ge=0, le=2**31)],
                    tree_size: Annotated[int | None, Query(ge=1, le=2**31)] = None) -> Response:
    return ok(ledger.inclusion(session, organization_id=principal.organization_id, leaf_index=leaf_index,
                               size=tree_size))


@router.get("/ledger/consistency", response_model=Envelope[ConsistencyOut], summary="RFC 9162 consistency proof",
            description="Proves the tree of size `first` is a prefix of the tree of size `second` (default: latest).")
def consistency_proof(session: DbSession, principal: ReadPrincipal, first: Annotated[int, Query(ge=1, le=2**31)],
                      second: Annotated[int | None, Query(ge=1, le=2**31)] = None) -> Response:
    return ok(ledger.consistency(session, organization_id=principal.organization_id, first=first, second=second))


@root_router.get("/.well-known/vitrina/ledger-keys", response_model=LedgerKeysOut, summary="Ledger public keys",
                 description="Public, no key: each organization's Ed25519 checkpoint key (raw 32 bytes, base64) "
                             "with its `key_id`. Optional `organization_id` filter.")
def ledger_keys(request: Request, session: DbSession,
                organization_id: Annotated[str | None, Query(max_length=32, pattern=_NO_NUL)] = None) -> Response:
    return bare({"keys": ledger.public_keys(session, server_secret=_secret(request),
                                            organization_id=organization_id)})
