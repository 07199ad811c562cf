"""Concurrency: real parallel requests (threads released together by a barrier) against a live server with two
uvicorn workers, on the suite's database (PostgreSQL under ``--db postgresql``, where row locks matter most).

Races: the same Idempotency-Key twenty times at once (applied once); two or more sales of one serialized piece
(one wins, the rest 409 ``ITEM_NOT_AVAILABLE``); parallel adjustments draining one bulk item (never below
zero, every success in the ledger); parallel status changes of one order (one wins, the rest 409); parallel
confirmations of one ownership transfer (one wins). A race whose routes do not exist yet is skipped, naming them.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable

import httpx
import pytest

from tests.reliability import figures
from tests.reliability.conftest import collection_doc
from tests.reliability.population import Tenant, new_org, populate
from tests.reliability.servers import OwnServer
from tests.reliability.test_crash import adjustment_body, inventory_item
from tests.support import OrgContext
from vitrina.db.session import Database

PARALLEL = 20


def race(server: OwnServer, headers: dict[str, str], count: int,
         send: Callable[[httpx.Client, int], httpx.Response]) -> list[httpx.Response]:
    """``count`` requests released at the same instant, each on its own connection."""
    barrier = threading.Barrier(count)
    results: list[httpx.Response | BaseException] = [RuntimeError("not run")] * count
    clients = [server.client(headers) for _ in range(count)]
    for client in clients:
        client.get("/healthz")  # open the connection before the start line

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = send(clients[index], index)
        except BaseException as exc:
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for client in clients:
        client.close()
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, f"requests failed: {errors[:3]}"
    figures.count("concurrency.races")
    figures.count("concurrency.racing_requests", count)
    return [r for r in results if isinstance(r, httpx.Response)]


def require(*routes: str) -> None:
    missing = [r for r in routes if collection_doc().find(*r.split(" ", 1)) is None]
    if missing:
        pytest.skip(f"missing route(s): {', '.join(missing)}")


def codes(responses: list[httpx.Response]) -> list[str]:
    return [r.json().get("error", {}).get("code", "") for r in responses if r.status_code >= 400]


@pytest.fixture
def racer(database: Database) -> OrgContext:
    return new_org(database, "Racing Jewelers")


@pytest.fixture
def filled(live_server: OwnServer, racer: OrgContext) -> Tenant:
    tenant = Tenant(org=racer, marker=f"RACE{uuid.uuid4().hex[:6].upper()}")
    with live_server.client(racer.headers) as client:
        populate(client, collection_doc(), tenant)
    return tenant


def test_idempotency_key_race_applies_once(live_server: OwnServer, racer: OrgContext) -> None:
    code = f"IDEM{uuid.uuid4().hex[:8].upper()}"
    body = {"name": "Idempotent", "code": code}
    headers = racer.headers | {"Idempotency-Key": f"race-{code}"}
    responses = race(live_server, headers, PARALLEL, lambda client, _: client.post("/api/v1/locations", json=body))
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {201, 409}, statuses
    assert set(codes(responses)) <= {"IDEMPOTENCY_IN_PROGRESS"}, codes(responses)
    created_ids = {r.json()["data"]["id"] for r in responses if r.status_code == 201}
    assert len(created_ids) == 1, f"applied {len(created_ids)} times"
    with live_server.client(racer.headers) as client:
        listed = client.get("/api/v1/locations", params={"limit": 200}).json()["data"]
        assert [loc["id"] for loc in listed if loc["code"] == code] == list(created_ids)
        replay = client.post("/api/v1/locations", json=body, headers={"Idempotency-Key": f"race-{code}"})
    assert replay.status_code == 201 and replay.headers.get("idempotent-replayed") == "true"
    assert replay.json()["data"]["id"] in created_ids


def test_oversell_race_sells_a_piece_once(live_server: OwnServer, filled: Tenant) -> None:
    require("POST /api/v1/inventory", "POST /api/v1/transactions")
    operation = collection_doc().find("POST", "/api/v1/transactions")
    assert operation is not None and operation.json_body_schema is not None
    with live_server.client(filled.headers) as client:
        piece = inventory_item(client, filled, tracking="serialized", quantity=1)
    body = filled.synthesizer(collection_doc()).body(operation)
    body |= {"type": "sale", "location_id": piece["location_id"],
             "lines": [{"inventory_id": piece["id"], "quantity": 1}]}
    body.pop("customer_id", None)
    responses = race(live_server, filled.headers, 10, lambda client, _: client.post("/api/v1/transactions", json=body))
    statuses = [r.status_code for r in responses]
    assert statuses.count(201) == 1, f"{statuses}: {[r.text[:200] for r in responses if r.status_code != 409][:2]}"
    assert set(statuses) == {201, 409} and set(codes(responses)) == {"ITEM_NOT_AVAILABLE"}, codes(responses)
    with live_server.client(filled.headers) as client:
        after = client.get(f"/api/v1/inventory/{piece['id']}").json()["data"]
    assert after["quantity"] == 0 and after["status"] == "sold"


def test_quantity_race_never_goes_below_zero(live_server: OwnServer, filled: Tenant) -> None:
    require("POST /api/v1/inventory", "PATCH /api/v1/inventory/{}", "GET /api/v1/inventory/{}/movements")
    start = PARALLEL // 2
    with live_server.client(filled.headers) as client:
        item = inventory_item(client, filled, quantity=start)
    body = adjustment_body(filled, -1)
    responses = race(live_server, filled.headers, PARALLEL,
                     lambda client, _: client.patch(f"/api/v1/inventory/{item['id']}", json=body))
    statuses = [r.status_code for r in responses]
    assert statuses.count(200) == start, statuses
    assert set(codes(responses)) <= {"INSUFFICIENT_STOCK"}, codes(responses)
    with live_server.client(filled.headers) as client:
        after = client.get(f"/api/v1/inventory/{item['id']}").json()["data"]
        movements = client.get(f"/api/v1/inventory/{item['id']}/movements", params={"limit": 200}).json()["data"]
    assert after["quantity"] == 0
    assert sum(m["quantity_change"] for m in movements) == 0, "the ledger does not sum to the quantity"


def test_order_status_race_has_one_winner(live_server: OwnServer, filled: Tenant) -> None:
    require("POST /api/v1/orders", "PUT /api/v1/orders/{}")
    orders = filled.ids.objects.get("/api/v1/orders", [])
    if not orders:
        pytest.skip(f"could not create an order through the API: {filled.failures.get('POST /api/v1/orders')}")
    order = orders[-1]
    if order.get("order_status") != 1:
        pytest.skip(f"the order was created in status {order.get('order_status')}, not 1")
    responses = race(live_server, filled.headers, 10,
                     lambda client, _: client.put(f"/api/v1/orders/{order['id']}", json={"order_status": 2}))
    statuses = [r.status_code for r in responses]
    assert statuses.count(200) == 1, statuses
    assert set(codes(responses)) <= {"INVALID_TRANSITION"}, codes(responses)


def test_transfer_confirmation_race_has_one_winner(live_server: OwnServer, filled: Tenant) -> None:
    require("POST /api/v1/transfers", "POST /api/v1/transfers/{}/confirm")
    transfers = [t for t in filled.ids.objects.get("/api/v1/transfers", []) if t.get("claim_code")]
    if not transfers:
        pytest.skip(f"could not create a transfer through the API: {filled.failures.get('POST /api/v1/transfers')}")
    transfer = transfers[-1]
    body = {"claim_code": transfer["claim_code"]}
    responses = race(live_server, filled.headers, 10,
                     lambda client, _: client.post(f"/api/v1/transfers/{transfer['id']}/confirm", json=body))
    statuses = [r.status_code for r in responses]
    assert statuses.count(200) == 1, statuses
    assert all(s == 409 for s in statuses if s != 200), statuses


def test_multipart_retry_with_the_same_key_replays(live_server: OwnServer, racer: OrgContext) -> None:
    """A client retrying an upload after a timeout sends the same file under the same Idempotency-Key, but its
    HTTP library picks a new random multipart boundary: the retry must replay, not be refused as another body."""
    require("POST /api/v1/inventory/import")
    content = b"external_id,sku,name,tracking,quantity\nRETRY-1,RETRY-1,Retried chain,bulk,2\n"
    key = f"upload-{uuid.uuid4().hex}"
    with live_server.client(racer.headers | {"Idempotency-Key": key}) as client:
        first = client.post("/api/v1/inventory/import", files={"file": ("stock.csv", content, "text/csv")})
        retry = client.post("/api/v1/inventory/import", files={"file": ("stock.csv", content, "text/csv")})
    assert first.status_code == 202, first.text
    assert retry.status_code == 202 and retry.headers.get("idempotent-replayed") == "true", retry.text[:300]
    assert retry.json()["data"]["id"] == first.json()["data"]["id"]
