"""GET /inventory/snapshot: stock at a past instant, from the ledger (seed 004)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.inventory.conftest import INV, Maker
from tests.support import OrgContext
from vitrina.core.time import to_rfc3339, utcnow

SNAP = f"{INV}/snapshot"


def _snap(client: TestClient, org: OrgContext, **params: Any) -> dict[str, Any]:
    response = client.get(SNAP, params=params, headers=org.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _quantities(body: dict[str, Any]) -> dict[str, tuple[int, str | None, str]]:
    return {row["id"]: (row["quantity"], row["location_id"], row["room_type"]) for row in body["data"]}


def test_snapshot_replays_the_past(client: TestClient, org: OrgContext, make_item: Maker,
                                   make_location: Maker) -> None:
    a, b = make_location("A"), make_location("B")
    before_anything = to_rfc3339(utcnow())
    bulk = make_item(tracking="bulk", quantity=10, location_id=a["id"], price="2.50", cost="1.25")
    piece = make_item(location_id=a["id"], price="1000", cost="400", currency="EUR")
    t1 = to_rfc3339(utcnow())
    client.patch(f"{INV}/{bulk['id']}", json={"quantity_change": -3, "reason_code": "SALE"}, headers=org.headers)
    client.post(f"{INV}/{piece['id']}/transfer", json={"to_location_id": b["id"]}, headers=org.headers)
    t2 = to_rfc3339(utcnow())
    client.patch(f"{INV}/{piece['id']}", json={"quantity_change": -1, "reason_code": "SALE"}, headers=org.headers)

    assert _snap(client, org, at=before_anything)["data"] == []
    then = _snap(client, org, at=t1)
    assert _quantities(then) == {bulk["id"]: (10, a["id"], "sales_floor"), piece["id"]: (1, a["id"], "sales_floor")}
    assert then["at"] == t1 and then["pagination"]["total"] == 2
    assert then["totals"]["count"] == 2 and then["totals"]["units"] == 11
    assert then["totals"]["cost_value"] == {"EUR": "400.00", "USD": "12.50"}
    assert then["totals"]["retail_value"] == {"EUR": "1000.00", "USD": "25.00"}
    later = _snap(client, org, at=t2)
    assert _quantities(later) == {bulk["id"]: (7, a["id"], "sales_floor"), piece["id"]: (1, b["id"], "sales_floor")}
    assert _quantities(_snap(client, org, at=t1, location_id=a["id"])).keys() == {bulk["id"], piece["id"]}
    assert _quantities(_snap(client, org, at=t2, location_id=a["id"])).keys() == {bulk["id"]}
    assert _quantities(_snap(client, org, at=t2, location_id=b["id"])).keys() == {piece["id"]}
    assert _snap(client, org, at=t1, location_id=b["id"])["data"] == []
    now = _snap(client, org)
    assert _quantities(now) == {bulk["id"]: (7, a["id"], "sales_floor")}
    with_zero = _snap(client, org, include_zero="true")
    assert _quantities(with_zero)[piece["id"]] == (0, b["id"], "sales_floor")
    today = _snap(client, org, date=utcnow().date().isoformat())
    assert _quantities(today) == _quantities(now)
    yesterday = _snap(client, org, date=(utcnow() - timedelta(days=1)).date().isoformat())
    assert yesterday["data"] == [] and yesterday["at"].endswith("T23:59:59.999999Z")


def test_snapshot_by_room_and_pagination(client: TestClient, org: OrgContext, make_item: Maker) -> None:
    items = [make_item(tracking="bulk", quantity=n + 1, room_type="vault" if n % 2 else "sales_floor")
             for n in range(5)]
    vault = _snap(client, org, room_type="vault")
    assert {row["id"] for row in vault["data"]} == {items[1]["id"], items[3]["id"]}
    assert vault["totals"]["units"] == 6
    first = client.get(SNAP, params={"limit": 2}, headers=org.headers)
    assert first.headers["x-total-count"] == "5" and 'rel="next"' in first.headers["link"]
    pages = [row["id"] for p in (1, 2, 3) for row in _snap(client, org, page=p, limit=2)["data"]]
    assert pages == sorted(item["id"] for item in items)
    assert _snap(client, org, page=3, limit=2)["totals"]["units"] == 15  # totals cover every page


def test_snapshot_errors(client: TestClient, org: OrgContext) -> None:
    future_day = (utcnow() + timedelta(days=2)).date().isoformat()
    cases = [({"date": future_day}, "$.date"), ({"date": "2026-13-01"}, "$.date"), ({"date": "yesterday"}, "$.date"),
             ({"at": to_rfc3339(utcnow() + timedelta(hours=1))}, "$.at"), ({"at": "noon"}, "$.at"),
             ({"date": "2025-01-01", "at": "2025-01-01T00:00:00Z"}, "$.at"), ({"room_type": "attic"}, "$.room_type"),
             ({"limit": 500}, "$.limit")]
    for params, path in cases:
        response = client.get(SNAP, params=params, headers=org.headers)
        assert response.status_code == 422, (params, response.text)
        assert path in [e["path"] for e in response.json()["error"]["details"]["errors"]], (params, response.text)
    missing = client.get(SNAP, params={"location_id": "loc_missing"}, headers=org.headers)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "LOCATION_NOT_FOUND"
    assert client.get(SNAP, headers=org.make_headers(["read"])).status_code == 200
