"""Provenance rules: passports, tag verification, ownership transfers and sales, each written to the ledger.

Every state change appends a leaf to the organization's Merkle ledger (``ledger.append``) and emits an outbox
event in the same transaction. Keys that a tag shares with us are sealed with the server secret
(``crypto.seal``), so service functions that touch them take ``server_secret``.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, Update, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vitrina.core.errors import ServiceUnavailable, ValidationFailed
from vitrina.core.ids import new_id
from vitrina.core.outbox import emit
from vitrina.core.pagination import Page
from vitrina.core.time import as_utc, to_rfc3339, utcnow
from vitrina.inventory.models import SERIALIZED, Item
from vitrina.provenance import crypto, ledger
from vitrina.provenance.errors import (
    InventoryAlreadyLinked,
    InventoryItemNotFound,
    PassportFlagged,
    PassportNotFound,
    TagIdTaken,
    TagUidTaken,
    TransferExpired,
    TransferNotFound,
    TransferNotPending,
    TransferPending,
)
from vitrina.provenance.models import (
    ACTIVE,
    CANCELLED,
    COMPLETED,
    EXPIRED,
    PENDING,
    LedgerLeaf,
    OrganizationKeys,
    Passport,
    Transfer,
)

TRANSFER_LIFETIME = timedelta(days=7)
_configured_secret: list[str] = []  # set by the app's startup (``configure``); callers may still pass their own
SIGNATURE_WINDOW_SECONDS = 300  # a signed tap older (or further in the future) than this is not fresh
_CLAIM_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud or typed from paper


def configure(server_secret: str) -> None:
    """Remember the server secret for callers that have only a session (the web page, the sales domain)."""
    _configured_secret[:] = [server_secret]


def resolve_secret(server_secret: str | None) -> str:
    if server_secret:
        return server_secret
    if _configured_secret:
        return _configured_secret[0]
    from vitrina.config import Settings

    return Settings().signing_secret


def _rows_changed(session: Session, statement: Update) -> int:
    result = session.execute(statement.execution_options(synchronize_session=False))
    assert isinstance(result, CursorResult)
    return int(result.rowcount or 0)


# --- organization keys --------------------------------------------------------------------------------------------

def master_key(session: Session, *, organization_id: str, server_secret: str | None = None,
               create: bool = True) -> bytes | None:
    """The organization's AN10922 master key (created at first use; sealed at rest)."""
    server_secret = resolve_secret(server_secret)
    row = session.get(OrganizationKeys, organization_id)
    if row is None:
        if not create:
            return None
        row = OrganizationKeys(organization_id=organization_id, created_at=utcnow(),
                               master_key_sealed=crypto.seal(server_secret, os.urandom(16),
                                                             context=f"master|{organization_id}"))
        session.add(row)
        session.flush()
    return crypto.unseal(server_secret, bytes(row.master_key_sealed), context=f"master|{organization_id}")


def set_master_key(session: Session, *, organization_id: str, server_secret: str | None = None, key: bytes) -> None:
    """Import a master key (a brand that already provisions tags with its own); existing tags keep their keys."""
    server_secret = resolve_secret(server_secret)
    sealed = crypto.seal(server_secret, key, context=f"master|{organization_id}")
    row = session.get(OrganizationKeys, organization_id)
    if row is None:
        session.add(OrganizationKeys(organization_id=organization_id, master_key_sealed=sealed, created_at=utcnow()))
    else:
        row.master_key_sealed = sealed
    session.flush()


# --- passports ----------------------------------------------------------------------------------------------------

def _record(session: Session, passport: Passport, event_type: str, data: dict[str, Any],
            at: datetime | None = None, actor: str | None = None) -> None:
    """Ledger leaf + outbox event for one change of ``passport`` (same transaction as the change)."""
    appended = ledger.append(session, organization_id=passport.organization_id, event_type=event_type,
                             passport_id=passport.id, data={"tag_id": passport.tag_id, **data}, at=at)
    passport.ledger_index = appended.leaf_index
    passport.ledger_hash = ledger.b64(appended.leaf_hash)
    emit(session, organization_id=passport.organization_id, type=event_type,
         data={"passport_id": passport.id, "tag_id": passport.tag_id, "leaf_index": appended.leaf_index, **data},
         actor=actor)


def _resolve_item(session: Session, organization_id: str, ref: str) -> Item:
    item = session.execute(select(Item).where(Item.organization_id == organization_id,
                                              or_(Item.id == ref, Item.external_id == ref))).scalars().first()
    if item is None:
        raise InventoryItemNotFound(details={"inventory_id": ref})
    if item.tracking != SERIALIZED:
        raise ValidationFailed.field("$.inventory_id", "only a serialized (unique) piece can carry a passport")
    linked = session.execute(select(Passport.id).where(Passport.organization_id == organization_id,
                                                       Passport.inventory_id == item.id)).scalar_one_or_none()
    if linked is not None:
        raise InventoryAlreadyLinked(details={"passport_id": linked})
    return item


def _seal_sun_keys(session: Session, passport: Passport, sun: dict[str, Any], server_secret: str) -> None:
    uid = bytes.fromhex(sun["uid"])
    taken = session.execute(select(Passport.id).where(Passport.organization_id == passport.organization_id,
                                                      Passport.sun_uid == uid.hex().upper())).scalar_one_or_none()
    if taken is not None:
        raise TagUidTaken(details={"passport_id": taken})
    master: bytes | None = None
    if not sun.get("meta_read_key") or not sun.get("file_read_key"):
        master = master_key(session, organization_id=passport.organization_id, server_secret=server_secret)
    meta = bytes.fromhex(sun["meta_read_key"]) if sun.get("meta_read_key") else crypto.meta_read_key(master or b"")
    file = bytes.fromhex(sun["file_read_key"]) if sun.get("file_read_key") else crypto.file_read_key(master or b"", uid)
    passport.sun_uid = uid.hex().upper()
    passport.meta_key_sealed = crypto.seal(server_secret, meta, context=f"meta|{passport.id}")
    passport.file_key_sealed = crypto.seal(server_secret, file, context=f"file|{passport.id}")


def register_passport(session: Session, *, organization_id: str, server_secret: str | None = None, tag_id: str,
                      product_name: str, brand: str | None = None, serial_number: str | None = None,
                      category: str | None = None, metadata: dict[str, Any] | None = None,
                      inventory_id: str | None = None, owner: str | None = None,
                      sun: dict[str, Any] | None = None, signature_public_key: str | None = None,
                      at: datetime | None = None) -> Passport:
    server_secret = resolve_secret(server_secret)
    exists = session.execute(select(Passport.id).where(Passport.organization_id == organization_id,
                                                       Passport.tag_id == tag_id)).scalar_one_or_none()
    if exists is not None:
        raise TagIdTaken(details={"tag_id": tag_id, "passport_id": exists})
    item = _resolve_item(session, organization_id, inventory_id) if inventory_id else None
    moment = at or utcnow()
    passport = Passport(
        id=new_id("psp"), organization_id=organization_id, tag_id=tag_id, product_name=product_name, brand=brand,
        serial_number=serial_number, category=category, details=metadata or {},
        inventory_id=item.id if item else None, status=ACTIVE, current_owner=owner or organization_id,
        transfer_count=0, verification_count=0, registered_at=moment, created_at=moment, updated_at=moment,
        signing_public_key=signature_public_key.lower() if signature_public_key else None,
    )
    if sun:
        _seal_sun_keys(session, passport, sun, server_secret)
    session.add(passport)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:  # a concurrent registration of the same tag or UID won the race
        raise TagIdTaken(details={"tag_id": tag_id}) from None
    _record(session, passport, "passport.registered", {
        "product_name": product_name, "brand": brand, "serial_number": serial_number,
        "inventory_id": passport.inventory_id, "owner": passport.current_owner,
        "sun_uid": passport.sun_uid}, at=moment)
    return passport


def get_passport(session: Session, *, organization_id: str, passport_id: str) -> Passport:
    passport = session.execute(select(Passport).where(Passport.organization_id == organization_id,
                                                      Passport.id == passport_id)).scalar_one_or_none()
    if passport is None:
        raise PassportNotFound(details={"passport_id": passport_id})
    return passport


def list_passports(session: Session, *, organization_id: str, page: Page, tag_id: str | None = None,
                   status: str | None = None, owner: str | None = None,
                   inventory_id: str | None = None) -> tuple[list[Passport], int]:
    conditions = [Passport.organization_id == organization_id]
    for column, value in ((Passport.tag_id, tag_id), (Passport.status, status), (Passport.current_owner, owner),
                          (Passport.inventory_id, inventory_id)):
        if value is not None:
            conditions.append(column == value)
    total = session.execute(select(func.count()).select_from(Passport).where(*conditions)).scalar_one()
    found = session.execute(select(Passport).where(*conditions).order_by(Passport.id)
                            .limit(page.limit).offset(page.offset)).scalars().all()
    return list(found), int(total)


def passport_for_inventory(session: Session, *, organization_id: str, inventory_id: str) -> Passport | None:
    return session.execute(select(Passport).where(Passport.organization_id == organization_id,
                                                  Passport.inventory_id == inventory_id)).scalars().first()


def link_inventory(session: Session, *, organization_id: str, passport_id: str, inventory_id: str) -> Passport:
    passport = get_passport(session, organization_id=organization_id, passport_id=passport_id)
    item = _resolve_item(session, organization_id, inventory_id)
    passport.inventory_id = item.id
    passport.version += 1
    _record(session, passport, "passport.linked", {"inventory_id": item.id})
    return passport


def flag_passport(session: Session, *, organization_id: str, passport_id: str, status: str,
                  note: str | None = None, actor: str | None = None) -> Passport:
    """Mark a piece stolen, lost or destroyed, or ``active`` again when recovered."""
    if status not in ("stolen", "lost", "destroyed", ACTIVE):
        raise ValidationFailed.field("$.status", "must be stolen, lost, destroyed or active")
    passport = get_passport(session, organization_id=organization_id, passport_id=passport_id)
    previous = passport.status
    passport.status = status
    passport.status_note = note
    passport.version += 1
    event = "passport.recovered" if status == ACTIVE and previous != ACTIVE else "passport.flagged"
    _record(session, passport, event, {"status": status, "previous_status": previous, "note": note}, actor=actor)
    return passport


# --- verification -------------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class TapInput:
    picc_data: str | None = None
    enc: str | None = None
    cmac: str | None = None
    signature: str | None = None
    timestamp: int | None = None

    @property
    def has_sun(self) -> bool:
        return bool(self.picc_data or self.cmac or self.enc)


@dataclass(frozen=True, slots=True)
class Assessment:
    authenticity: str
    counter: int | None = None
    signed_at: int | None = None


def _hex(value: str, path: str, *, lengths: tuple[int, ...] | None = None, block: int | None = None) -> bytes:
    text = value.strip()
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise ValidationFailed.field(path, "must be hexadecimal") from None
    if lengths is not None and len(raw) not in lengths:
        raise ValidationFailed.field(path, f"must be {' or '.join(str(n * 2) for n in lengths)} hex digits")
    if block is not None and (not raw or len(raw) % block):
        raise ValidationFailed.field(path, f"must be a non-empty multiple of {block * 2} hex digits")
    return raw


def check_tap_input(tap: TapInput) -> None:
    """Malformed input is a 422 (with the field's path), before any tag is looked at."""
    if tap.has_sun:
        if not tap.picc_data:
            raise ValidationFailed.field("$.picc_data", "required with cmac/enc")
        if not tap.cmac:
            raise ValidationFailed.field("$.cmac", "required with picc_data")
        _hex(tap.picc_data, "$.picc_data", lengths=(16,))
        _hex(tap.cmac, "$.cmac", lengths=(8,))
        if tap.enc:
            _hex(tap.enc, "$.enc", block=16)
    if tap.signature is not None:
        _hex(tap.signature.removeprefix("0x"), "$.signature", lengths=(64,))
        if tap.timestamp is None:
            raise ValidationFailed.field("$.timestamp", "required with signature")


def _assess_sun(passport: Passport, tap: TapInput, server_secret: str) -> Assessment:
    if passport.meta_key_sealed is None or passport.file_key_sealed is None or passport.sun_uid is None:
        return Assessment("invalid")
    try:
        meta = crypto.unseal(server_secret, bytes(passport.meta_key_sealed), context=f"meta|{passport.id}")
        file = crypto.unseal(server_secret, bytes(passport.file_key_sealed), context=f"file|{passport.id}")
    except ValueError:  # the server secret changed since the tag was registered: a configuration fault
        raise ServiceUnavailable("The tag's keys cannot be opened with this server's secret.") from None
    picc = crypto.decrypt_picc_data(meta, bytes.fromhex(tap.picc_data or ""))
    if picc is None or picc.uid.hex().upper() != passport.sun_uid:
        return Assessment("invalid")
    # With encrypted file data the MAC covers the URL text up to the MAC value, whose parameter may be spelled
    # `cmac` or `c` (API.md accepts both): one of the two inputs must match.
    inputs = [crypto.enc_mac_input(tap.enc.strip(), name) for name in ("cmac", "c")] if tap.enc else [b""]
    given = bytes.fromhex(tap.cmac or "")
    if not any(crypto.macs_equal(crypto.sdm_mac(file, picc.uid, picc.counter, data), given) for data in inputs):
        return Assessment("invalid")
    if passport.last_counter is not None and picc.counter <= passport.last_counter:
        return Assessment("replayed", counter=picc.counter)
    return Assessment("confirmed", counter=picc.counter)


def _assess_signature(passport: Passport, tap: TapInput, now: int) -> Assessment:
    if passport.signing_public_key is None or tap.signature is None or tap.timestamp is None:
        return Assessment("invalid")
    message = f"{passport.tag_id}|{tap.timestamp}".encode()
    signature = bytes.fromhex(tap.signature.removeprefix("0x"))
    if not crypto.ed25519_verify(bytes.fromhex(passport.signing_public_key), signature, message):
        return Assessment("invalid")
    stale = abs(now - tap.timestamp) > SIGNATURE_WINDOW_SECONDS
    seen = passport.last_signed_timestamp is not None and tap.timestamp <= passport.last_signed_timestamp
    if stale or seen:
        return Assessment("replayed", signed_at=tap.timestamp)
    return Assessment("confirmed", signed_at=tap.timestamp)


def assess(passport: Passport, tap: TapInput, server_secret: str, now: int | None = None) -> Assessment:
    """What the tap proves, without changing anything (``record_verification`` applies it)."""
    if tap.has_sun:
        result = _assess_sun(passport, tap, server_secret)
    elif tap.signature is not None:
        result = _assess_signature(passport, tap, int(time.time()) if now is None else now)
    else:
        result = Assessment("unverified")
    if result.authenticity in ("confirmed", "unverified") and passport.status != ACTIVE:
        return Assessment("flagged", counter=result.counter, signed_at=result.signed_at)
    return result


def _advance(session: Session, passport: Passport, result: Assessment) -> Assessment:
    """Accept the counter (or signed timestamp) only if no concurrent tap already accepted it or a later one."""
    if result.counter is not None and result.authenticity in ("confirmed", "flagged"):
        moved = _rows_changed(session, update(Passport).where(
            Passport.id == passport.id, or_(Passport.last_counter.is_(None), Passport.last_counter < result.counter))
            .values(last_counter=result.counter))
        if not moved:
            return Assessment("replayed", counter=result.counter)
    if result.signed_at is not None and result.authenticity in ("confirmed", "flagged"):
        moved = _rows_changed(session, update(Passport).where(
            Passport.id == passport.id,
            or_(Passport.last_signed_timestamp.is_(None), Passport.last_signed_timestamp < result.signed_at))
            .values(last_signed_timestamp=result.signed_at))
        if not moved:
            return Assessment("replayed", signed_at=result.signed_at)
    return result


def record_verification(session: Session, passport: Passport, result: Assessment, *, channel: str) -> Assessment:
    result = _advance(session, passport, result)
    now = utcnow()
    session.execute(update(Passport).where(Passport.id == passport.id).values(
        verification_count=Passport.verification_count + 1, last_verified_at=now)
        .execution_options(synchronize_session=False))
    session.refresh(passport)
    _record(session, passport, "passport.verified",
            {"authenticity": result.authenticity, "channel": channel, "read_counter": result.counter}, at=now)
    return result


def _verification_body(passport: Passport | None, result: Assessment, *, show_owner: bool) -> dict[str, Any]:
    product = None if passport is None else {
        "id": passport.id, "tag_id": passport.tag_id, "product_name": passport.product_name,
        "brand": passport.brand, "serial_number": passport.serial_number, "status": passport.status}
    return {
        "verified": result.authenticity == "confirmed", "authenticity": result.authenticity, "product": product,
        "current_owner": passport.current_owner if passport is not None and show_owner else None,
        "ledger": None if passport is None else {"leaf_index": passport.ledger_index,
                                                 "leaf_hash": passport.ledger_hash},
        "verified_at": to_rfc3339(utcnow()), "read_counter": result.counter,
    }


def _passport_by_uid(session: Session, organization_id: str, picc_hex: str, server_secret: str) -> Passport | None:
    master = master_key(session, organization_id=organization_id, server_secret=server_secret, create=False)
    if master is None:
        return None
    picc = crypto.decrypt_picc_data(crypto.meta_read_key(master), bytes.fromhex(picc_hex))
    if picc is None:
        return None
    return session.execute(select(Passport).where(Passport.organization_id == organization_id,
                                                  Passport.sun_uid == picc.uid.hex().upper())).scalar_one_or_none()


def verify(session: Session, *, organization_id: str, server_secret: str | None = None, tag_id: str | None,
           tap: TapInput) -> dict[str, Any]:
    """``POST /passports/verify``: by tag id, or (with SUN data only) by the UID inside the PICCData."""
    server_secret = resolve_secret(server_secret)
    check_tap_input(tap)
    if tag_id is None and not tap.picc_data:
        raise ValidationFailed.field("$.tag_id", "send tag_id, or picc_data and cmac")
    if tag_id is not None:
        passport = session.execute(select(Passport).where(Passport.organization_id == organization_id,
                                                          Passport.tag_id == tag_id)).scalar_one_or_none()
    else:
        passport = _passport_by_uid(session, organization_id, tap.picc_data or "", server_secret)
    if passport is None:
        return _verification_body(None, Assessment("unknown"), show_owner=False)
    result = record_verification(session, passport, assess(passport, tap, server_secret), channel="api")
    return _verification_body(passport, result, show_owner=True)


def public_verify(session: Session, *, tag_id: str, tap: TapInput, server_secret: str | None = None) -> dict[str, Any]:
    """What a shopper's tap shows (``GET /api/v1/public/verify`` and the ``/v/{tag_id}`` page): no credentials, so
    the owner is not disclosed. A tag id is unique per organization; when several organizations use the same one,
    the passport whose keys authenticate the tap wins."""
    server_secret = resolve_secret(server_secret)
    check_tap_input(tap)
    candidates = list(session.execute(select(Passport).where(Passport.tag_id == tag_id)
                                      .order_by(Passport.registered_at).limit(10)).scalars())
    if not candidates:
        return _verification_body(None, Assessment("unknown"), show_owner=False)
    chosen, result = candidates[0], assess(candidates[0], tap, server_secret)
    for candidate in candidates[1:]:
        if result.authenticity not in ("invalid",):
            break
        chosen, result = candidate, assess(candidate, tap, server_secret)
    result = record_verification(session, chosen, result, channel="public")
    body = _verification_body(chosen, result, show_owner=True)
    body["product"].update({"category": chosen.category, "registered_at": to_rfc3339(chosen.registered_at),
                            "transfer_count": chosen.transfer_count,
                            "verification_count": chosen.verification_count,
                            "image_url": (chosen.details or {}).get("image_url")})
    return body


def verify_public(session: Session, *, tag_id: str, picc_data: str | None = None, enc: str | None = None,
                  cmac: str | None = None, server_secret: str | None = None) -> dict[str, Any]:
    """For the ``/v/{tag_id}`` page: ``public_verify`` with the URL's parameters. It writes (read counter,
    verification count, ledger leaf), so call it in a writing unit of work and commit."""
    return public_verify(session, tag_id=tag_id, server_secret=server_secret,
                         tap=TapInput(picc_data=picc_data or None, enc=enc or None, cmac=cmac or None))


# --- transfers ----------------------------------------------------------------------------------------------------

def _claim_hash(transfer_id: str, code: str) -> str:
    normalized = code.strip().upper().replace("-", "").replace(" ", "")
    return hashlib.sha256(f"{transfer_id}:{normalized}".encode()).hexdigest()


def _new_claim_code() -> str:
    raw = "".join(secrets.choice(_CLAIM_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def transfer_status(transfer: Transfer, now: datetime | None = None) -> str:
    """A pending transfer past its expiry reads as ``expired`` even before a write marks it so."""
    if transfer.status == PENDING and as_utc(transfer.expires_at) <= (now or utcnow()):
        return EXPIRED
    return transfer.status


def _expire_stale(session: Session, *, organization_id: str, passport_id: str) -> None:
    session.execute(update(Transfer).where(
        Transfer.organization_id == organization_id, Transfer.passport_id == passport_id,
        Transfer.status == PENDING, Transfer.expires_at <= utcnow()).values(status=EXPIRED)
        .execution_options(synchronize_session=False))


def transfer_that_gave_ownership(session: Session, passport: Passport) -> Transfer | None:
    """The completed transfer that made the current owner the owner, when the piece's latest change of hands was
    a transfer (not its registration or a sale); read from the passport's ledger entries."""
    latest = session.execute(select(LedgerLeaf.event_type, LedgerLeaf.leaf_data).where(
        LedgerLeaf.organization_id == passport.organization_id, LedgerLeaf.passport_id == passport.id,
        LedgerLeaf.event_type.in_(("passport.sold", "transfer.completed")))
        .order_by(LedgerLeaf.leaf_index.desc()).limit(1)).first()
    if latest is None or latest.event_type != "transfer.completed":
        return None
    transfer_id = json.loads(bytes(latest.leaf_data))["data"].get("transfer_id")
    return session.execute(select(Transfer).where(Transfer.organization_id == passport.organization_id,
                                                  Transfer.id == transfer_id)).scalar_one_or_none()


def _require_owner_consent(session: Session, passport: Passport, owner_claim_code: str | None) -> None:
    """Only the organization moves a piece it (or its customer, by a sale) owns; once a transfer has handed the
    piece to someone else, that owner's claim code must come along. Missing and wrong codes get one answer."""
    proof = transfer_that_gave_ownership(session, passport)
    if proof is None or proof.to_owner != passport.current_owner:
        return
    if owner_claim_code and secrets.compare_digest(proof.claim_code_hash, _claim_hash(proof.id, owner_claim_code)):
        return
    raise ValidationFailed.field("$.owner_claim_code", "the current owner's claim code is needed to pass this "
                                                        "piece on")


def create_transfer(session: Session, *, organization_id: str, passport_id: str, to_owner: str,
                    message: str | None = None, owner_claim_code: str | None = None,
                    owner_vouched: bool = True) -> tuple[Transfer, str]:
    """A pending transfer and its claim code (returned once; only its hash is kept).

    ``owner_vouched=False`` (the API) requires the current owner's consent when a transfer made them the owner
    (``_require_owner_consent``); a caller that has proven ownership its own way (the public tap page checks the
    piece in hand and the owner's name) passes True.
    """
    passport = get_passport(session, organization_id=organization_id, passport_id=passport_id)
    if passport.status != ACTIVE:
        raise PassportFlagged(details={"status": passport.status})
    if not owner_vouched:
        _require_owner_consent(session, passport, owner_claim_code)
    _expire_stale(session, organization_id=organization_id, passport_id=passport.id)
    pending = session.execute(select(Transfer.id).where(Transfer.organization_id == organization_id,
                                                        Transfer.passport_id == passport.id,
                                                        Transfer.status == PENDING)).scalar_one_or_none()
    if pending is not None:
        raise TransferPending(details={"transfer_id": pending})
    now = utcnow()
    code = _new_claim_code()
    transfer = Transfer(id=new_id("trf"), organization_id=organization_id, passport_id=passport.id,
                        from_owner=passport.current_owner, to_owner=to_owner, message=message, status=PENDING,
                        expires_at=now + TRANSFER_LIFETIME, created_at=now, claim_code_hash="")
    transfer.claim_code_hash = _claim_hash(transfer.id, code)
    session.add(transfer)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:  # a concurrent request created the pending transfer first
        raise TransferPending() from None
    _record(session, passport, "transfer.created", {"transfer_id": transfer.id, "from_owner": transfer.from_owner,
                                                    "to_owner": to_owner}, at=now)
    return transfer, code


def get_transfer(session: Session, *, organization_id: str, transfer_id: str) -> Transfer:
    transfer = session.execute(select(Transfer).where(Transfer.organization_id == organization_id,
                                                      Transfer.id == transfer_id)).scalar_one_or_none()
    if transfer is None:
        raise TransferNotFound(details={"transfer_id": transfer_id})
    return transfer


def list_transfers(session: Session, *, organization_id: str, page: Page, passport_id: str | None = None,
                   status: str | None = None) -> tuple[list[Transfer], int]:
    conditions: list[Any] = [Transfer.organization_id == organization_id]
    if passport_id is not None:
        conditions.append(Transfer.passport_id == passport_id)
    if status == EXPIRED:
        conditions.append(or_(Transfer.status == EXPIRED,
                              (Transfer.status == PENDING) & (Transfer.expires_at <= utcnow())))
    elif status == PENDING:
        conditions.extend([Transfer.status == PENDING, Transfer.expires_at > utcnow()])
    elif status is not None:
        conditions.append(Transfer.status == status)
    total = session.execute(select(func.count()).select_from(Transfer).where(*conditions)).scalar_one()
    found = session.execute(select(Transfer).where(*conditions).order_by(Transfer.id.desc())
                            .limit(page.limit).offset(page.offset)).scalars().all()
    return list(found), int(total)


def _pending(transfer: Transfer) -> None:
    state = transfer_status(transfer)
    if state == EXPIRED:
        raise TransferExpired(details={"expires_at": to_rfc3339(transfer.expires_at)})
    if state != PENDING:
        raise TransferNotPending(details={"status": state})


def confirm_transfer(session: Session, *, organization_id: str, transfer_id: str, claim_code: str) -> Transfer:
    """Owner changes to the recipient. The code is checked before anything else, and a wrong one always gets the
    same answer, so a guesser learns neither which characters were wrong nor whether the transfer is still
    pending, expired or done (only the right code reveals that)."""
    transfer = get_transfer(session, organization_id=organization_id, transfer_id=transfer_id)
    if not secrets.compare_digest(transfer.claim_code_hash, _claim_hash(transfer.id, claim_code)):
        raise ValidationFailed.field("$.claim_code", "this claim code does not confirm this transfer")
    _pending(transfer)
    passport = get_passport(session, organization_id=organization_id, passport_id=transfer.passport_id)
    if passport.status != ACTIVE:
        raise PassportFlagged(details={"status": passport.status})
    now = utcnow()
    moved = _rows_changed(session, update(Transfer).where(Transfer.id == transfer.id, Transfer.status == PENDING)
                          .values(status=COMPLETED, completed_at=now))
    if not moved:  # a concurrent confirm or cancel got there first
        raise TransferNotPending()
    session.refresh(transfer)
    passport.current_owner = transfer.to_owner
    passport.current_owner_name = None
    passport.transfer_count += 1
    passport.version += 1
    _record(session, passport, "transfer.completed", {"transfer_id": transfer.id, "from_owner": transfer.from_owner,
                                                      "to_owner": transfer.to_owner}, at=now)
    return transfer


def cancel_transfer(session: Session, *, organization_id: str, transfer_id: str) -> Transfer:
    transfer = get_transfer(session, organization_id=organization_id, transfer_id=transfer_id)
    _pending(transfer)
    now = utcnow()
    moved = _rows_changed(session, update(Transfer).where(Transfer.id == transfer.id, Transfer.status == PENDING)
                          .values(status=CANCELLED, cancelled_at=now))
    if not moved:
        raise TransferNotPending()
    session.refresh(transfer)
    passport = get_passport(session, organization_id=organization_id, passport_id=transfer.passport_id)
    _record(session, passport, "transfer.cancelled", {"transfer_id": transfer.id}, at=now)
    return transfer


def expire_transfers(session: Session, *, now: datetime | None = None) -> int:
    """Mark every overdue pending transfer expired (reads already treat them so; this tidies the rows)."""
    return _rows_changed(session, update(Transfer).where(Transfer.status == PENDING,
                                                         Transfer.expires_at <= (now or utcnow()))
                         .values(status=EXPIRED))


# --- sales (called by the sales domain) ---------------------------------------------------------------------------

def record_sale(session: Session, *, organization_id: str, inventory_id: str, customer_id: str, customer_name: str,
                transaction_id: str) -> None:
    """A serialized piece with a passport was sold: the customer becomes its owner on the ledger.

    No-op when the piece has no passport. The customer's name is kept on the passport but not written to the
    append-only ledger (personal data must stay erasable); the ledger names the customer id and transaction.
    """
    passport = session.execute(select(Passport).where(Passport.organization_id == organization_id,
                                                      Passport.inventory_id == inventory_id)).scalars().first()
    if passport is None:
        return
    now = utcnow()
    previous = passport.current_owner
    # A sale supersedes any transfer the previous owner had started.
    session.execute(update(Transfer).where(Transfer.organization_id == organization_id,
                                           Transfer.passport_id == passport.id, Transfer.status == PENDING)
                    .values(status=CANCELLED, cancelled_at=now).execution_options(synchronize_session=False))
    passport.current_owner = customer_id
    passport.current_owner_name = customer_name
    passport.transfer_count += 1
    passport.version += 1
    _record(session, passport, "passport.sold", {"transaction_id": transaction_id, "from_owner": previous,
                                                 "to_owner": customer_id, "inventory_id": inventory_id}, at=now)


# --- shaping ------------------------------------------------------------------------------------------------------

def passport_dict(passport: Passport) -> dict[str, Any]:
    return {
        "id": passport.id, "tag_id": passport.tag_id, "product_name": passport.product_name, "brand": passport.brand,
        "serial_number": passport.serial_number, "category": passport.category, "metadata": passport.details,
        "inventory_id": passport.inventory_id, "status": passport.status, "current_owner": passport.current_owner,
        "transfer_count": passport.transfer_count, "verification_count": passport.verification_count,
        "last_verified_at": to_rfc3339(passport.last_verified_at),
        "registered_at": to_rfc3339(passport.registered_at),
        "sun": None if passport.sun_uid is None else {"uid": passport.sun_uid, "last_counter": passport.last_counter},
        "ledger": {"leaf_index": passport.ledger_index, "leaf_hash": passport.ledger_hash},
    }


def transfer_dict(transfer: Transfer, claim_code: str | None = None) -> dict[str, Any]:
    body = {
        "id": transfer.id, "passport_id": transfer.passport_id, "from_owner": transfer.from_owner,
        "to_owner": transfer.to_owner, "status": transfer_status(transfer), "message": transfer.message,
        "expires_at": to_rfc3339(transfer.expires_at), "created_at": to_rfc3339(transfer.created_at),
        "completed_at": to_rfc3339(transfer.completed_at), "cancelled_at": to_rfc3339(transfer.cancelled_at),
    }
    if claim_code is not None:
        body["claim_code"] = claim_code
    return body


# --- read models for the web pages ---------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class PassportHolder:
    organization_id: str
    passport_id: str
    current_owner: str
    current_owner_name: str | None


def passport_holder(session: Session, *, passport_id: str) -> PassportHolder | None:
    """Whose passport ``passport_id`` is and who owns it, for the public verify page, which knows the passport
    only from a genuine tap and has no organization key. Passport ids are globally unique, so no organization
    filter is needed to find the one row."""
    row = session.execute(select(Passport.organization_id, Passport.id, Passport.current_owner,
                                 Passport.current_owner_name).where(Passport.id == passport_id)).first()
    return None if row is None else PassportHolder(*row)


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    leaf_index: int
    event_type: str
    created_at: datetime


def passport_ledger(session: Session, *, organization_id: str, passport_id: str,
                    limit: int = 200) -> list[LedgerEntry]:
    """A passport's ledger entries, oldest first; each one's proof comes from ``ledger.inclusion``."""
    rows = session.execute(
        select(LedgerLeaf.leaf_index, LedgerLeaf.event_type, LedgerLeaf.created_at)
        .where(LedgerLeaf.organization_id == organization_id, LedgerLeaf.passport_id == passport_id)
        .order_by(LedgerLeaf.leaf_index).limit(limit)
    ).all()
    return [LedgerEntry(*row) for row in rows]
