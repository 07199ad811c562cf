"""Demo passports for ``vitrina seed-demo``: tagged pieces from the demo stock, with taps, a completed transfer,
a sale and a stolen piece, so the ledger, proofs and EPCIS export have a story to tell.

Tags are simulated NTAG 424 DNA chips whose keys are diversified from the organization's master key, exactly as
real ones would be provisioned; the result includes a fresh tap URL to try on the public verify page.
"""

from __future__ import annotations

import os
from typing import Any

from rich.console import Console
from sqlalchemy import select
from sqlalchemy.orm import Session

from vitrina.inventory.models import SERIALIZED, Item
from vitrina.provenance import crypto, service

PASSPORTS = 24


def _tap(master: bytes, uid: bytes, counter: int) -> dict[str, str]:
    picc = crypto.encrypt_picc_data(crypto.meta_read_key(master), uid, counter)
    mac = crypto.sdm_mac(crypto.file_read_key(master, uid), uid, counter)
    return {"picc_data": picc.hex().upper(), "cmac": mac.hex().upper()}


def seed(session: Session, *, organization_id: str, console: Console) -> dict[str, Any]:
    pieces = session.execute(select(Item).where(Item.organization_id == organization_id,
                                                Item.tracking == SERIALIZED, Item.quantity == 1)
                             .order_by(Item.id).limit(PASSPORTS)).scalars().all()
    master = service.master_key(session, organization_id=organization_id)
    assert master is not None
    sample: dict[str, str] = {}
    passports = []
    for number in range(PASSPORTS):
        piece = pieces[number] if number < len(pieces) else None
        uid = b"\x04" + os.urandom(6)
        passport = service.register_passport(
            session, organization_id=organization_id, tag_id=f"VTR-{number + 1:05d}",
            product_name=piece.name if piece else f"Heritage piece {number + 1}", brand="Maison Demo",
            serial_number=(piece.cert_number or piece.sku) if piece else f"SN-{number + 1:05d}",
            category=piece.category if piece else "rings", inventory_id=piece.id if piece else None,
            metadata={"origin": "Demo atelier"}, sun={"uid": uid.hex()})
        passports.append(passport)
        for counter in range(1, 1 + number % 3):  # a few genuine taps each
            tap = _tap(master, uid, counter)
            service.verify(session, organization_id=organization_id, tag_id=passport.tag_id,
                           tap=service.TapInput(picc_data=tap["picc_data"], cmac=tap["cmac"]))
        if number == 0:
            tap = _tap(master, uid, 10)
            sample = {"provenance_sample_tag": passport.tag_id,
                      "provenance_sample_tap": f"/v/{passport.tag_id}?e={tap['picc_data']}&c={tap['cmac']}"}
    transfer, code = service.create_transfer(session, organization_id=organization_id,
                                             passport_id=passports[1].id, to_owner="collector:demo-heir")
    service.confirm_transfer(session, organization_id=organization_id, transfer_id=transfer.id, claim_code=code)
    service.create_transfer(session, organization_id=organization_id, passport_id=passports[2].id,
                            to_owner="collector:pending", message="Anniversary gift")
    service.flag_passport(session, organization_id=organization_id, passport_id=passports[3].id, status="stolen",
                          note="Reported at the flagship, demo data")
    if passports[4].inventory_id:
        service.record_sale(session, organization_id=organization_id, inventory_id=passports[4].inventory_id,
                            customer_id="cus_demo", customer_name="Demo Customer", transaction_id="txn_demo")
    console.print(f"provenance: {len(passports)} passports with simulated NTAG 424 DNA tags")
    return {"provenance_passports": len(passports), **sample}
