"""Passports: the list, a passport's page with its status, and flagging a piece stolen, lost or recovered.

Every read and change is a ``provenance.service`` call; the section is present only when that domain offers
the functions it calls (see ``domains.require``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import Request, Response
from sqlalchemy.orm import Session

from vitrina.core.errors import ValidationFailed, VitrinaError
from vitrina.core.pagination import Page
from vitrina.db.session import DbSession
from vitrina.web import forms
from vitrina.web.domains import require
from vitrina.web.routing import Staff, StaffReader, StaffWriteForm, fresh, page_router, redirect
from vitrina.web.templating import render

provenance = require("provenance", "list_passports", "get_passport", "flag_passport", "create_transfer")

router = page_router()
NAV = (("Passports", "/app/passports"),)
PAGE_SIZE = 25
FLAGS = ("stolen", "lost", "active")


@router.get("/app/passports")
def passports(request: Request, session: DbSession, staff: StaffReader, tag_id: str | None = None,
              page: int = 1) -> Response:
    page = max(page, 1)
    found, total = provenance.list_passports(session, organization_id=staff.organization_id,
                                             page=Page(limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE),
                                             tag_id=forms.text(tag_id))

    def url_for_page(number: int) -> str:
        return "/app/passports?" + urlencode({"page": number} | ({"tag_id": tag_id} if tag_id else {}))

    return render(request, "passports/list.html", {
        "passports": found, "total": total, "page": page, "pages": max(-(-total // PAGE_SIZE), 1),
        "url_for_page": url_for_page, "tag_id": tag_id or ""})


def passport_page(request: Request, session: Session, staff: Staff, passport_id: str, *,
                  error: VitrinaError | None = None, status: int = 200, transfer: Any = None,
                  claim_code: str | None = None) -> Response:
    passport: Any = provenance.get_passport(session, organization_id=staff.organization_id,
                                            passport_id=passport_id)
    base = request.app.state.settings.public_base_url.rstrip("/")
    return render(request, "passports/passport.html", {
        "passport": passport, "flags": FLAGS, "error": error, "verify_url": f"{base}/v/{passport.tag_id}",
        "transfer": transfer, "claim_code": claim_code,
    }, status=status)


@router.get("/app/passports/{passport_id}")
def passport_detail(request: Request, session: DbSession, staff: StaffReader, passport_id: str) -> Response:
    return passport_page(request, session, staff, passport_id)


@router.post("/app/passports/{passport_id}/flag")
async def flag(request: Request, session: DbSession, staff: StaffWriteForm, passport_id: str) -> Response:
    values = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    try:
        if values.get("status") not in FLAGS:
            raise ValidationFailed.field("$.status", f"must be one of {', '.join(FLAGS)}")
        passport = provenance.flag_passport(session, organization_id=staff.organization_id,
                                            passport_id=passport_id, status=values.get("status", ""),
                                            note=forms.text(values.get("note")))
    except VitrinaError as exc:
        fresh(session)
        return passport_page(request, session, staff, passport_id, error=exc, status=exc.status)
    return redirect(request, f"/app/passports/{passport_id}", flash=f"The passport is now {passport.status}.")


@router.post("/app/passports/{passport_id}/transfer")
async def start_transfer(request: Request, session: DbSession, staff: StaffWriteForm, passport_id: str) -> Response:
    """Start an ownership transfer; the claim code for the recipient is rendered once, never redirected with."""
    values = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    try:
        to_owner = forms.text(values.get("to_owner"))
        if to_owner is None or len(to_owner) > 200:
            raise ValidationFailed.field("$.to_owner", "is required (at most 200 characters)")
        transfer, claim_code = provenance.create_transfer(session, organization_id=staff.organization_id,
                                                          passport_id=passport_id, to_owner=to_owner,
                                                          message=forms.text(values.get("message")))
    except VitrinaError as exc:
        fresh(session)
        return passport_page(request, session, staff, passport_id, error=exc, status=exc.status)
    return passport_page(request, session, staff, passport_id, transfer=transfer, claim_code=claim_code)
