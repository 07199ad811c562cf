"""The public verify page ``/v/{tag_id}?e=&c=``: what a shopper's phone opens when it taps the tag.

No sign-in, mobile first, one clearly distinct verdict per outcome (genuine, copied/replayed link, invalid
signature, reported stolen/lost, unknown tag, or a tag id without a signature). The check itself is the
provenance domain's (``vitrina.web.verification``); this page only presents it. Without the provenance domain the
page says plainly that verification is not available, with status 503, rather than pretending.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from vitrina.core.errors import ValidationFailed, VitrinaError
from vitrina.db.session import Database
from vitrina.web import security, verification
from vitrina.web.masking import mask_owner
from vitrina.web.templating import render

# A plain router: the page is public (no staff dependency) and runs its own unit of work, because a GET here
# writes (the tag's read counter, the verification count, a ledger entry) and must commit them.
router = APIRouter(include_in_schema=False)

MAX_PARAM = 512  # far above any SUN message; longer is not a tag's URL


def _run_check(database: Database, server_secret: str, tag_id: str,
               message: verification.SunMessage) -> verification.Outcome:
    with database.unit_of_work() as session:
        return verification.verify(session, server_secret=server_secret, tag_id=tag_id, message=message)


@router.get("/v/{tag_id}")
async def verify_page(request: Request, tag_id: str, e: str | None = None, c: str | None = None,
                      picc_data: str | None = None, enc: str | None = None, cmac: str | None = None) -> Response:
    message = verification.SunMessage(picc_data=picc_data or e, cmac=cmac or c, enc=enc)
    try:
        security.VerifyThrottle.of(request).hit(security.client_address(request))  # first: guesses count too
        verification.check_tag_id(tag_id)
        if any(len(value or "") > MAX_PARAM for value in (message.picc_data, message.cmac, message.enc)):
            raise ValidationFailed.field("$.e", "is not a tag's message")
        outcome = await run_in_threadpool(_run_check, request.app.state.db,
                                          request.app.state.settings.signing_secret, tag_id, message)
    except VitrinaError as exc:
        outcome = verification.Outcome.failed(exc)
    verdict = verification.VERDICTS[outcome.state]
    product = outcome.product
    response = render(request, "verify/page.html", {
        "state": outcome.state, "headline": verdict.headline, "explanation": verdict.explanation,
        "passport": product, "owner_masked": mask_owner(outcome.current_owner),
        "photo_url": verification.photo_url(product), "verified_at": outcome.verified_at,
        "ledger": outcome.ledger, "tag_id": tag_id, "message": None, "pending": None,
        "can_start_transfer": False, "claim_code": None, "csrf_token": "", "form_base": f"/v/{tag_id}",
    }, status=outcome.status, referrer="no-referrer")  # the URL carries the tap's one-time signature
    for name, value in outcome.headers.items():
        response.headers[name] = value
    return response
