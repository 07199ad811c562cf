"""GS1 EPCIS 2.0 JSON-LD export of a passport's history, read from the ledger itself.

Each ledger leaf of the passport becomes one ObjectEvent (CBV 2.0 vocabulary): registration is
``commissioning``, a verification ``inspecting``, a sale ``retail_selling`` and an ownership transfer names the
old and new owners in ``sourceList``/``destinationList`` (``owning_party``). Each event carries its ledger leaf
index and hash (``vitrina:`` extension fields), so a reader can prove it with ``/ledger/proof``.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from vitrina.core.time import to_rfc3339, utcnow
from vitrina.provenance.ledger import b64
from vitrina.provenance.models import LedgerLeaf, Passport

CONTEXT: list[Any] = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
                      {"vitrina": "https://vitrina.dev/epcis/"}]
_FLAG_DISPOSITIONS = {"stolen": "stolen", "lost": "unknown", "destroyed": "destroyed", "active": "active"}


def epc_for(passport: Passport) -> str:
    return f"urn:vitrina:passport:{passport.organization_id}:{passport.id}"


def party(owner: str | None) -> str:
    return f"urn:vitrina:party:{quote(owner or 'unknown', safe='')}"


def _base(passport: Passport, leaf: LedgerLeaf, entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "ObjectEvent", "eventTime": entry["at"], "eventTimeZoneOffset": "+00:00",
        "eventID": f"urn:vitrina:ledger:{leaf.organization_id}:{leaf.leaf_index}",
        "epcList": [epc_for(passport)], "action": "OBSERVE",
        "vitrina:ledgerLeafIndex": leaf.leaf_index, "vitrina:ledgerLeafHash": b64(bytes(leaf.leaf_hash)),
    }


def _ownership(event: dict[str, Any], data: dict[str, Any]) -> None:
    event["sourceList"] = [{"type": "owning_party", "source": party(data.get("from_owner"))}]
    event["destinationList"] = [{"type": "owning_party", "destination": party(data.get("to_owner"))}]


def _event(passport: Passport, leaf: LedgerLeaf) -> dict[str, Any] | None:
    entry = json.loads(bytes(leaf.leaf_data))
    data: dict[str, Any] = entry.get("data", {})
    event = _base(passport, leaf, entry)
    kind = leaf.event_type
    if kind == "passport.registered":
        event.update(action="ADD", bizStep="commissioning", disposition="active")
    elif kind == "passport.verified":
        event.update(bizStep="inspecting")
        event["vitrina:authenticity"] = data.get("authenticity")
    elif kind == "passport.sold":
        event.update(bizStep="retail_selling", disposition="retail_sold")
        event["bizTransactionList"] = [{"type": "inv", "bizTransaction": f"urn:vitrina:transaction:"
                                                                         f"{quote(str(data.get('transaction_id')))}"}]
        _ownership(event, data)
    elif kind == "transfer.completed":
        _ownership(event, data)
    elif kind in ("passport.flagged", "passport.recovered"):
        event["disposition"] = _FLAG_DISPOSITIONS.get(str(data.get("status")), "unknown")
    else:
        return None  # transfer.created/cancelled and links change no custody: not EPCIS events
    return event


def document(session: Session, passport: Passport) -> dict[str, Any]:
    leaves = session.execute(select(LedgerLeaf).where(LedgerLeaf.organization_id == passport.organization_id,
                                                      LedgerLeaf.passport_id == passport.id)
                             .order_by(LedgerLeaf.leaf_index)).scalars()
    events = [event for leaf in leaves if (event := _event(passport, leaf)) is not None]
    return {"@context": CONTEXT, "type": "EPCISDocument", "schemaVersion": "2.0",
            "creationDate": to_rfc3339(utcnow()), "epcisBody": {"eventList": events}}
