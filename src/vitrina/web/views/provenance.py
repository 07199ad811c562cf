"""Passports: the list and registering a tag, a passport's page with its history and ledger proofs, flagging a
piece stolen, lost or recovered, and starting an ownership transfer.

Every change is a ``provenance.service`` call with the API's own request schema; proofs are
``provenance.ledger.inclusion`` and ``checkpoint``, the calls behind ``/api/v1/ledger/...``. The section is present
only when that domain offers the functions it calls (see ``domains.require``).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import Request, Response
from sqlalchemy.orm import Session

from vitrina.core.errors import ValidationFailed, VitrinaError
from vitrina.core.pagination import Page
from vitrina.db.session import DbSession
from vitrina.web import forms, ledgerproof
from vitrina.web.domains import require
from vitrina.web.routing import Staff, StaffReader, StaffWriteForm, fresh, page_router, redirect
from vitrina.web.templating import render

provenance = require("provenance", "list_passports", "get_passport", "flag_passport", "create_transfer",
                     "register_passport", "list_transfers", "passport_ledger")
from vitrina.provenance.schemas import PassportCreate  # noqa: E402  (after the check that the domain is there)

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
        "url_for_page": url_for_page, "tag_id": tag_id or "", "error": None, "errors": {}, "values": {}})


REGISTER_FIELDS = ("tag_id", "product_name", "brand", "serial_number", "category", "inventory_id", "owner")


def _register_body(values: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {name: forms.text(values.get(name)) for name in REGISTER_FIELDS}
    body = {name: value for name, value in body.items() if value is not None}
    if uid := forms.text(values.get("sun")):
        body["sun"] = {"uid": uid}
    return body


@router.post("/app/passports")
async def register(request: Request, session: DbSession, staff: StaffWriteForm) -> Response:
    """Register a tag: the form is read with ``PassportCreate``, the API's schema, then ``register_passport``."""
    values = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    try:
        body = forms.parse_with(PassportCreate, _register_body(values))
        passport = provenance.register_passport(
            session, organization_id=staff.organization_id, server_secret=request.app.state.settings.signing_secret,
            tag_id=body.tag_id, product_name=body.product_name, brand=body.brand, serial_number=body.serial_number,
            category=body.category, inventory_id=body.inventory_id, owner=body.owner,
            sun=body.sun.model_dump() if body.sun else None)
    except VitrinaError as exc:
        fresh(session)
        found, total = provenance.list_passports(session, organization_id=staff.organization_id,
                                                 page=Page(limit=PAGE_SIZE, offset=0))
        return render(request, "passports/list.html", {
            "passports": found, "total": total, "page": 1, "pages": max(-(-total // PAGE_SIZE), 1),
            "url_for_page": lambda number: f"/app/passports?page={number}", "tag_id": "",
            "error": exc, "errors": forms.field_errors(exc), "values": forms.form_dict(values)}, status=exc.status)
    return redirect(request, f"/app/passports/{passport.id}", flash=f"Tag {passport.tag_id} was registered.")


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    leaf_index: int
    event_type: str
    created_at: Any
    data: str
    proof: dict[str, Any]
    proven: bool


def _history(session: Session, organization_id: str, passport_id: str,
             checkpoint: dict[str, Any]) -> list[HistoryEntry]:
    """The passport's ledger entries, each with its inclusion proof in the checkpoint's tree, checked here."""
    entries = []
    for entry in provenance.passport_ledger(session, organization_id=organization_id, passport_id=passport_id):
        proof = provenance.ledger.inclusion(session, organization_id=organization_id, leaf_index=entry.leaf_index,
                                            size=checkpoint["tree_size"])
        data = json.dumps(json.loads(base64.b64decode(proof["leaf_data"])), indent=1, ensure_ascii=False)
        entries.append(HistoryEntry(entry.leaf_index, entry.event_type, entry.created_at, data, proof,
                                    ledgerproof.proof_holds(proof, checkpoint["root_hash"])))
    return entries


def passport_page(request: Request, session: Session, staff: Staff, passport_id: str, *,
                  error: VitrinaError | None = None, status: int = 200, transfer: Any = None,
                  claim_code: str | None = None) -> Response:
    passport: Any = provenance.get_passport(session, organization_id=staff.organization_id,
                                            passport_id=passport_id)
    settings = request.app.state.settings
    base = settings.public_base_url.rstrip("/")
    checkpoint = provenance.ledger.checkpoint(session, organization_id=staff.organization_id,
                                              server_secret=settings.signing_secret)
    transfers, _ = provenance.list_transfers(session, organization_id=staff.organization_id,
                                             page=Page(limit=20, offset=0), passport_id=passport.id)
    return render(request, "passports/passport.html", {
        "passport": passport, "flags": FLAGS, "error": error, "verify_url": f"{base}/v/{passport.tag_id}",
        "transfer": transfer, "claim_code": claim_code, "checkpoint": checkpoint,
        "history": _history(session, staff.organization_id, passport.id, checkpoint),
        "transfers": transfers, "transfer_status": provenance.transfer_status,
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
