"""The public verify page ``/v/{tag_id}?e=&c=``: what a shopper's phone opens when it taps the tag.

No sign-in, mobile first, one clearly distinct verdict per outcome (genuine, copied/replayed link, invalid
signature, reported stolen/lost, unknown tag, or a tag id without a signature). The check itself is the
provenance domain's (``vitrina.web.verification``); this page only presents it. Without the provenance domain the
page says plainly that verification is not available, with status 503, rather than pretending.

After a Genuine tap the page also lets the owner pass the piece on and the recipient accept it with the claim
code (``vitrina.web.public_transfer``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from vitrina.core.errors import ValidationFailed, VitrinaError
from vitrina.db.session import Database
from vitrina.web import forms, public_transfer, security, verification
from vitrina.web.masking import mask_owner
from vitrina.web.templating import render

# A plain router: the page is public (no staff dependency) and runs its own unit of work, because a GET here
# writes (the tag's read counter, the verification count, a ledger entry) and must commit them.
router = APIRouter(include_in_schema=False)

MAX_PARAM = 512  # far above any SUN message; longer is not a tag's URL
MAX_FORM_FIELD = 1_000


@dataclass(frozen=True, slots=True)
class Offer:
    """What a Genuine tap of an active piece lets its holder do next on the page."""

    tap_pass: str = ""
    pending: public_transfer.PendingTransfer | None = None
    can_start_transfer: bool = False
    store_owned: bool = False  # the brand still owns it: say so rather than show the brand's id masked


def _offer(database: Database, secret: str, tag_id: str, outcome: verification.Outcome) -> Offer:
    piece = outcome.product
    if piece is None or not piece.passport_id or not public_transfer.available():
        return Offer()
    with database.unit_of_work() as session:
        store_owned = public_transfer.owned_by_store(session, passport_id=piece.passport_id)
        if outcome.state != "genuine" or piece.status != "active" or store_owned is None:
            return Offer(store_owned=bool(store_owned))
        pending = public_transfer.pending_transfer(session, passport_id=piece.passport_id)
    return Offer(tap_pass=public_transfer.issue_pass(secret, tag_id=tag_id, passport_id=piece.passport_id),
                 pending=pending, can_start_transfer=pending is None and not store_owned,
                 store_owned=store_owned)


def _run_check(database: Database, server_secret: str, tag_id: str,
               message: verification.SunMessage) -> tuple[verification.Outcome, Offer]:
    with database.unit_of_work() as session:
        outcome = verification.verify(session, server_secret=server_secret, tag_id=tag_id, message=message)
    return outcome, _offer(database, server_secret, tag_id, outcome)


@router.get("/v/{tag_id}")
async def verify_page(request: Request, tag_id: str, e: str | None = None, c: str | None = None,
                      picc_data: str | None = None, enc: str | None = None, cmac: str | None = None) -> Response:
    message = verification.SunMessage(picc_data=picc_data or e, cmac=cmac or c, enc=enc)
    offer = Offer()
    try:
        security.VerifyThrottle.of(request).hit(security.client_address(request))  # first: guesses count too
        verification.check_tag_id(tag_id)
        if any(len(value or "") > MAX_PARAM for value in (message.picc_data, message.cmac, message.enc)):
            raise ValidationFailed.field("$.e", "is not a tag's message")
        outcome, offer = await run_in_threadpool(_run_check, request.app.state.db,
                                                 request.app.state.settings.signing_secret, tag_id, message)
    except VitrinaError as exc:
        outcome = verification.Outcome.failed(exc)
    verdict = verification.VERDICTS[outcome.state]
    product = outcome.product
    response = render(request, "verify/page.html", {
        "state": outcome.state, "headline": verdict.headline, "explanation": verdict.explanation,
        "passport": product, "owner_masked": mask_owner(outcome.current_owner), "store_owned": offer.store_owned,
        "photo_url": verification.photo_url(product), "verified_at": outcome.verified_at,
        "ledger": outcome.ledger, "tag_id": tag_id, "message": None, "pending": offer.pending,
        "can_start_transfer": offer.can_start_transfer, "claim_code": None, "tap_pass": offer.tap_pass,
        "form_base": f"/v/{tag_id}",
    }, status=outcome.status, referrer="no-referrer")  # the URL carries the tap's one-time signature
    for name, value in outcome.headers.items():
        response.headers[name] = value
    return response


# --- passing the piece on ---------------------------------------------------------------------------------------

# The page after a transfer form: its own headline, never a verification verdict (no tap was checked here).
RESULTS = {
    "started": ("Transfer started", "Give the claim code below to the new owner. They tap the tag and enter it "
                "here within 7 days; until then you remain the owner."),
    "accepted": ("You are the owner now", "The transfer is complete and recorded in the piece's ledger."),
    "failed": ("Transfer not done", ""),
}


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: value[:MAX_FORM_FIELD] for key, value in form.items() if isinstance(value, str)}


FIELD_NAMES = {"owner": "Owner", "to_owner": "New owner", "message": "Message", "claim_code": "Claim code",
               "transfer_id": "Transfer"}


def _error_text(error: VitrinaError) -> str:
    """The error in words for a shopper: each bad field by its label ("Claim code: ..."), else the message."""
    fields = forms.field_errors(error)
    return " ".join(message if name == "_form" else f"{FIELD_NAMES.get(name, name)}: {message}."
                    for name, message in fields.items())


def _result_page(request: Request, tag_id: str, result: str, *, claim_code: str | None = None,
                 error: VitrinaError | None = None) -> Response:
    headline, explanation = RESULTS[result]
    return render(request, "verify/transfer.html", {
        "result": result, "headline": headline, "explanation": _error_text(error) if error else explanation,
        "claim_code": claim_code, "tag_id": tag_id,
    }, status=error.status if error else 200, referrer="no-referrer")


def _transfer_step(database: Database, secret: str, tag_id: str, action: str, values: dict[str, Any]) -> str | None:
    tap_pass = public_transfer.read_pass(secret, values.get("tap_pass"), tag_id=tag_id)
    with database.unit_of_work() as session:
        if action == "start":
            return public_transfer.start(session, tap_pass=tap_pass, owner=values.get("owner"),
                                         to_owner=values.get("to_owner"), message=values.get("message"))
        public_transfer.accept(session, tap_pass=tap_pass, transfer_id=values.get("transfer_id"),
                               claim_code=values.get("claim_code"))
        return None


async def _transfer_post(request: Request, tag_id: str, action: str) -> Response:
    try:
        security.check_same_origin(request)
        # The same per-address limit as checks: owner names and claim codes cannot be guessed faster than taps.
        security.VerifyThrottle.of(request).hit(security.client_address(request))
        values = await _form(request)
        claim_code = await run_in_threadpool(_transfer_step, request.app.state.db,
                                             request.app.state.settings.signing_secret, tag_id, action, values)
    except VitrinaError as exc:
        return _result_page(request, tag_id, "failed", error=exc)
    if action == "start":
        return _result_page(request, tag_id, "started", claim_code=claim_code)
    return _result_page(request, tag_id, "accepted")


@router.post("/v/{tag_id}/transfer")
async def start_transfer(request: Request, tag_id: str) -> Response:
    return await _transfer_post(request, tag_id, "start")


@router.post("/v/{tag_id}/accept")
async def accept_transfer(request: Request, tag_id: str) -> Response:
    return await _transfer_post(request, tag_id, "accept")
