"""No double sale, no oversell: real parallel requests against a live server (two uvicorn worker processes) on
the suite's database (PostgreSQL under ``--db postgresql``, where the row locks decide the races).

After each race the tables themselves are read (items, ledger, transactions, lines, events), not only the API,
so "nothing changes" means no row was written or left changed by a losing request.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import func, select

from tests.support import LiveServer, OrgContext
from vitrina.core.models import OutboxEvent
from vitrina.db.session import Database
from vitrina.inventory.models import Item, Movement
from vitrina.sales.models import SalesTransaction, TransactionLine

TXN = "/api/v1/transactions"


def race(server: LiveServer, org: OrgContext, bodies: list[dict[str, Any]]) -> list[httpx.Response]:
    """One POST /transactions per body, all released at the same instant, each on its own open connection."""
    barrier = threading.Barrier(len(bodies))
    clients = [server.client(org.headers) for _ in bodies]
    results: list[httpx.Response | BaseException] = [RuntimeError("not run")] * len(bodies)
    for client in clients:
        client.get("/healthz")  # connect before the start line, so the requests really overlap

    def run(index: int) -> None:
        barrier.wait(timeout=30)
        try:
            results[index] = clients[index].post(TXN, json=bodies[index])
        except BaseException as exc:  # reported below, with the others
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for client in clients:
        client.close()
    failures = [r for r in results if isinstance(r, BaseException)]
    assert not failures, failures[:3]
    return [r for r in results if isinstance(r, httpx.Response)]


@dataclass(frozen=True)
class Tables:
    """What the database holds for one organization's items: the state a losing sale must not touch."""

    items: dict[str, tuple[int, str, int]]  # id -> (quantity, status, version)
    movements: dict[str, list[tuple[str, int, int]]]  # item id -> [(reason, change, quantity after)]
    transactions: int
    lines: int
    events: dict[str, int]  # type -> count


def tables(database: Database, org: OrgContext, item_ids: list[str]) -> Tables:
    with database.unit_of_work(organization_id=org.id, write=False) as session:
        items = {row.id: (row.quantity, row.status, row.version)
                 for row in session.scalars(select(Item).where(Item.organization_id == org.id,
                                                               Item.id.in_(item_ids)))}
        moves: dict[str, list[tuple[str, int, int]]] = {item_id: [] for item_id in item_ids}
        for move in session.scalars(select(Movement).where(Movement.organization_id == org.id,
                                                           Movement.item_id.in_(item_ids))
                                    .order_by(Movement.item_id, Movement.item_version)):
            moves[move.item_id].append((move.reason_code, move.quantity_change, move.quantity_after))

        def count(model: Any) -> int:
            return int(session.scalar(select(func.count()).select_from(model)
                                      .where(model.organization_id == org.id)) or 0)

        events = dict(session.execute(select(OutboxEvent.type, func.count()).where(
            OutboxEvent.organization_id == org.id).group_by(OutboxEvent.type)).tuples().all())
        return Tables(items=items, movements=moves, transactions=count(SalesTransaction),
                      lines=count(TransactionLine), events=events)


def stock(server: LiveServer, org: OrgContext, code: str, pieces: list[dict[str, Any]]) -> tuple[str, list[str]]:
    """A location and the given items in it, through the API."""
    with server.client(org.headers) as http:
        location = http.post("/api/v1/locations", json={"name": code.title(), "code": code})
        assert location.status_code == 201, location.text
        loc = str(location.json()["data"]["id"])
        ids = []
        for n, fields in enumerate(pieces):
            body = {"sku": f"{code}-{n}", "name": "Piece", "price": "100.00", "currency": "USD",
                    "tracking": "serialized", "quantity": 1, "location_id": loc} | fields
            created = http.post("/api/v1/inventory", json=body)
            assert created.status_code == 201, created.text
            ids.append(str(created.json()["data"]["id"]))
    return loc, ids


def sale(loc: str, lines: list[tuple[str, int]]) -> dict[str, Any]:
    return {"type": "sale", "location_id": loc, "currency": "USD", "payment_method": "card",
            "lines": [{"inventory_id": item, "quantity": quantity} for item, quantity in lines]}


def outcome(responses: list[httpx.Response]) -> tuple[int, int, set[str]]:
    """(201s, 409s, error codes of the 409s); any other status fails the test, naming the response."""
    others = [r.text for r in responses if r.status_code not in (201, 409)]
    assert not others, others
    losers = [r for r in responses if r.status_code == 409]
    return (len(responses) - len(losers), len(losers), {r.json()["error"]["code"] for r in losers})


def assert_ledger_adds_up(state: Tables) -> None:
    for item_id, (quantity, _status, _version) in state.items.items():
        changes = state.movements[item_id]
        assert sum(change for _reason, change, _after in changes) == quantity, (item_id, changes)
        assert changes[-1][2] == quantity, (item_id, changes)


def test_two_parallel_sales_of_one_piece(live_server: LiveServer, org: OrgContext, database: Database) -> None:
    rounds = 3
    loc, pieces = stock(live_server, org, "PAIR", [{} for _ in range(rounds)])
    for piece in pieces:
        won, lost, codes = outcome(race(live_server, org, [sale(loc, [(piece, 1)])] * 2))
        assert (won, lost, codes) == (1, 1, {"ITEM_NOT_AVAILABLE"})
    state = tables(database, org, pieces)
    assert all(state.items[p][:2] == (0, "sold") for p in pieces)
    assert all([m[0] for m in state.movements[p]] == ["RECEIVED", "SALE"] for p in pieces)
    assert (state.transactions, state.lines) == (rounds, rounds)
    assert state.events["inventory.sold"] == state.events["transaction.completed"] == rounds


def test_ten_parallel_sales_of_one_piece(live_server: LiveServer, org: OrgContext, database: Database) -> None:
    racers = 10
    loc, [piece] = stock(live_server, org, "TEN", [{"price": "12499.99"}])
    responses = race(live_server, org, [sale(loc, [(piece, 1)]) for _ in range(racers)])
    assert outcome(responses) == (1, racers - 1, {"ITEM_NOT_AVAILABLE"}), [r.text for r in responses]
    [winner] = [r.json()["data"] for r in responses if r.status_code == 201]
    state = tables(database, org, [piece])
    assert state.items[piece][:2] == (0, "sold")
    assert state.movements[piece] == [("RECEIVED", 1, 1), ("SALE", -1, 0)]
    assert (state.transactions, state.lines) == (1, 1)
    assert state.events["inventory.sold"] == state.events["transaction.completed"] == 1
    with live_server.client(org.headers) as http:
        assert [t["id"] for t in http.get(TXN).json()["data"]] == [winner["id"]]


def test_parallel_bulk_sales_never_oversell(live_server: LiveServer, org: OrgContext, database: Database) -> None:
    """Ten buyers of 2 units racing for 5: two sales win, eight get 409 and leave no trace; 1 unit is left."""
    racers, available, each = 10, 5, 2
    loc, [chain] = stock(live_server, org, "BULK", [{"tracking": "bulk", "quantity": available, "price": "50.00"}])
    responses = race(live_server, org, [sale(loc, [(chain, each)]) for _ in range(racers)])
    winners = available // each
    assert outcome(responses) == (winners, racers - winners, {"ITEM_NOT_AVAILABLE"}), [r.text for r in responses]
    state = tables(database, org, [chain])
    assert state.items[chain][:2] == (available - winners * each, "active")
    assert [m[0] for m in state.movements[chain]] == ["RECEIVED"] + ["SALE"] * winners
    assert_ledger_adds_up(state)
    assert (state.transactions, state.lines) == (winners, winners)
    assert state.events["transaction.completed"] == winners


def test_bulk_oversell_changes_nothing(live_server: LiveServer, org: OrgContext, database: Database) -> None:
    loc, [chain] = stock(live_server, org, "OVER", [{"tracking": "bulk", "quantity": 5, "price": "50.00"}])
    before = tables(database, org, [chain])
    with live_server.client(org.headers) as http:
        response = http.post(TXN, json=sale(loc, [(chain, 6)]))
    assert response.status_code == 409, response.text
    error = response.json()["error"]
    assert error["code"] == "ITEM_NOT_AVAILABLE" and error["details"]["path"] == "$.lines[0]"
    assert tables(database, org, [chain]) == before


def test_multi_line_sale_short_on_its_last_line_changes_nothing(live_server: LiveServer, org: OrgContext,
                                                                database: Database) -> None:
    """The first lines would move (and, by item id, may already have moved) when the last one is found short:
    the whole request rolls back, so items, ledger, transactions, lines and events are exactly as before."""
    loc, items = stock(live_server, org, "LAST", [{"tracking": "bulk", "quantity": 5}, {},
                                                  {"tracking": "bulk", "quantity": 2}])
    first, piece, short = items
    before = tables(database, org, items)
    with live_server.client(org.headers) as http:
        response = http.post(TXN, json=sale(loc, [(first, 2), (piece, 1), (short, 3)]))
    assert response.status_code == 409, response.text
    error = response.json()["error"]
    assert error["code"] == "ITEM_NOT_AVAILABLE" and error["details"]["path"] == "$.lines[2]"
    assert tables(database, org, items) == before


def test_parallel_multi_line_sales_short_on_the_last_line(live_server: LiveServer, org: OrgContext,
                                                          database: Database) -> None:
    """Eight sales of one unit each of A, B and C race; C (every sale's last line) has 3 units. Exactly 3 sales
    win; the 5 losers moved A and B before failing on C and must have rolled that back: A and B lose 3 units."""
    racers, scarce = 8, 3
    loc, items = stock(live_server, org, "SCARCE", [{"tracking": "bulk", "quantity": 10},
                                                    {"tracking": "bulk", "quantity": 10},
                                                    {"tracking": "bulk", "quantity": scarce}])
    a, b, c = items
    responses = race(live_server, org, [sale(loc, [(a, 1), (b, 1), (c, 1)]) for _ in range(racers)])
    assert outcome(responses) == (scarce, racers - scarce, {"ITEM_NOT_AVAILABLE"}), [r.text for r in responses]
    state = tables(database, org, items)
    assert {item: state.items[item][0] for item in items} == {a: 10 - scarce, b: 10 - scarce, c: 0}
    assert all([m[0] for m in state.movements[item]].count("SALE") == scarce for item in items)
    assert_ledger_adds_up(state)
    assert (state.transactions, state.lines) == (scarce, 3 * scarce)


def test_parallel_multi_line_sales_in_crossed_order_never_deadlock(live_server: LiveServer, org: OrgContext,
                                                                    database: Database) -> None:
    """Racing sales that take two bulk items in opposite line orders: no deadlock (no 5xx), exactly as many
    sales as there is stock succeed, the rest are 409 and change nothing, and each ledger sums to its item."""
    available, racers = 3, 8
    loc, chains = stock(live_server, org, "CROSS", [{"tracking": "bulk", "quantity": available}] * 2)
    crossed = [chains if n % 2 == 0 else chains[::-1] for n in range(racers)]
    responses = race(live_server, org, [sale(loc, [(item, 1) for item in order]) for order in crossed])
    assert outcome(responses) == (available, racers - available, {"ITEM_NOT_AVAILABLE"})
    state = tables(database, org, chains)
    assert all(state.items[chain][0] == 0 for chain in chains)
    assert_ledger_adds_up(state)
    assert (state.transactions, state.lines) == (available, 2 * available)


def test_parallel_returns_never_exceed_the_sale(live_server: LiveServer, org: OrgContext,
                                                database: Database) -> None:
    """Four units sold; eight returns of one unit race against the sale line: four win, four get 409
    RETURN_EXCEEDS_SALE, and the item is back to its full quantity, never above it."""
    sold, racers = 4, 8
    loc, [chain] = stock(live_server, org, "BACK", [{"tracking": "bulk", "quantity": 10}])
    with live_server.client(org.headers) as http:
        assert http.post(TXN, json=sale(loc, [(chain, sold)])).status_code == 201
    give_back = {"type": "return", "location_id": loc, "lines": [{"inventory_id": chain, "quantity": 1}]}
    responses = race(live_server, org, [give_back] * racers)
    assert outcome(responses) == (sold, racers - sold, {"RETURN_EXCEEDS_SALE"}), [r.text for r in responses]
    state = tables(database, org, [chain])
    assert state.items[chain][0] == 10
    assert [m[0] for m in state.movements[chain]] == ["RECEIVED", "SALE"] + ["RETURN"] * sold
    assert_ledger_adds_up(state)
    assert (state.transactions, state.lines) == (1 + sold, 1 + sold)
    with database.unit_of_work(organization_id=org.id, write=False) as session:
        returned = session.scalar(select(TransactionLine.returned_quantity).where(
            TransactionLine.organization_id == org.id, TransactionLine.inventory_id == chain,
            TransactionLine.sale_line_id.is_(None)))
    assert returned == sold
