"""Loading a synthetic but realistic jeweler as fast as correctness allows.

PostgreSQL gets ``COPY`` into the same tables the models define (the column lists come from the models, so
the loader cannot drift from the schema); SQLite gets batched ``executemany``. Every item's movements are
generated as a consistent history: each movement's ``quantity_after`` is the running sum, and the item's
quantity is its last ``quantity_after``, so ``vitrina check`` holds on the loaded data.
"""

from __future__ import annotations

import importlib
import random
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Table, func, select

from bench import fixtures
from bench.scenarios import Fixture
from vitrina.accounts import service as accounts
from vitrina.core.ids import new_id
from vitrina.db.migrate import upgrade
from vitrina.db.session import Database

CATEGORIES = ("rings", "pendants", "earrings", "bracelets", "necklaces", "watches", "chains", "findings")
METALS = ("14K yellow gold", "18K white gold", "platinum 950", "sterling silver", "18K rose gold")
LABS = ("GIA", "IGI", "AGS", "HRD")


@dataclass
class BenchDatabase:
    kind: str
    url: str
    name: str
    drop: Callable[[], None]

    @classmethod
    def create(cls, kind: str, work: Path, pg_admin_url: str) -> BenchDatabase:
        if kind == "sqlite":
            path = work / "bench.db"
            url = f"sqlite:///{path}"
            upgrade(url)
            return cls(kind, url, str(path), lambda: None)
        import psycopg

        name = f"vitrina_bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(pg_admin_url, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')

        def drop() -> None:
            with psycopg.connect(pg_admin_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

        url = f"{pg_admin_url.rsplit('/', 1)[0]}/{name}"
        upgrade(url)
        return cls(kind, url, name, drop)


@dataclass
class BenchOrg:
    organization_id: str
    api_key: str
    api_secret: str

    @property
    def auth_header(self) -> str:
        return f"{self.api_key}:{self.api_secret}"


def create_organization(url: str) -> BenchOrg:
    database = Database(url)
    with database.unit_of_work() as session:
        org, issued = accounts.create_organization(session, name="Bench Jewelers", plan="enterprise",
                                                   rate_limit_per_minute=100_000_000)
        result = BenchOrg(org.id, issued.key.api_key, issued.api_secret)
    database.dispose()
    return result


def _chunks(rows: Iterator[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def copy_rows(database: Database, table: Table, columns: list[str], rows: Iterator[tuple[Any, ...]]) -> int:
    """Bulk insert: COPY on PostgreSQL, executemany on SQLite. Returns the row count."""
    count = 0
    if database.is_sqlite:
        statement = table.insert()
        for batch in _chunks(rows, 5000):
            with database.engine.begin() as connection:
                connection.execute(statement, [dict(zip(columns, row, strict=True)) for row in batch])
            count += len(batch)
        return count
    raw = database.engine.raw_connection()
    try:
        cursor = raw.cursor()
        with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        raw.commit()
    finally:
        raw.close()
    return count


def random_history(rng: random.Random, start: datetime, end: datetime, count: int,
                   serialized: bool) -> list[tuple[datetime, int, str]]:
    """A plausible ledger for one item: received first, then sales, returns and adjustments."""
    span = (end - start).total_seconds()
    stamps = sorted(start + timedelta(seconds=rng.random() * span) for _ in range(count))
    if serialized:
        history = [(stamps[0], 1, "RECEIVED")]
        quantity = 1
        for stamp in stamps[1:]:
            change = -1 if quantity == 1 else 1
            history.append((stamp, change, "SALE" if change < 0 else "RETURN"))
            quantity += change
        return history
    quantity = rng.randint(20, 200)
    history = [(stamps[0], quantity, "RECEIVED")]
    for stamp in stamps[1:]:
        change = rng.choice((-3, -2, -1, -1, 1, 2, 5)) if quantity > 5 else rng.randint(5, 40)
        reason = "SALE" if change < 0 else rng.choice(("RECEIVED", "RETURN", "ADJUSTMENT"))
        history.append((stamp, change, reason))
        quantity += change
    return history


def money(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randint(low * 100, high * 100)) / 100


def measure_seconds(action: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


ITEM_COLUMNS = ["id", "organization_id", "external_id", "sku", "name", "category", "description", "tracking",
                "status", "quantity", "reserved_quantity", "low_stock_threshold", "location_id", "room_type",
                "price", "cost", "currency", "supplier_id", "certification", "cert_number", "attributes",
                "last_moved_at", "created_at", "updated_at", "version"]
MOVEMENT_COLUMNS = ["id", "organization_id", "item_id", "item_version", "quantity_change", "quantity_after",
                    "reason_code", "notes", "reference", "actor", "location_id", "room_type", "created_at"]


@dataclass
class _Piece:
    """Everything needed to emit one item and its history; rebuilt from its seed for the second pass."""

    index: int
    serialized: bool
    location_id: str
    history: list[tuple[datetime, int, str]]


def _piece(index: int, locations: list[str], start: datetime, end: datetime, mean_moves: float) -> _Piece:
    rng = random.Random(index)
    serialized = rng.random() < 0.6
    moves = max(1, min(int(rng.expovariate(1 / mean_moves)) + 1, int(mean_moves * 6)))
    return _Piece(index, serialized, locations[index % len(locations)],
                  random_history(rng, start, end, moves, serialized))


def _item_row(piece: _Piece, organization_id: str, item_id: str, encode_json: Callable[[Any], Any]) -> tuple:
    rng = random.Random(-piece.index - 1)
    category = CATEGORIES[piece.index % (5 if piece.serialized else len(CATEGORIES))]
    quantity = sum(change for _, change, _ in piece.history)
    status = "active" if quantity > 0 or not piece.serialized else "sold"
    lab = LABS[piece.index % len(LABS)] if piece.serialized else None
    price = money(rng, 400, 25_000) if piece.serialized else money(rng, 20, 900)
    metal = METALS[piece.index % len(METALS)]
    attributes = {"metal": metal, "weight_g": round(rng.uniform(1.5, 18), 2)}
    created, last = piece.history[0][0], piece.history[-1][0]
    row = {
        "id": item_id, "organization_id": organization_id, "external_id": f"EXT-{piece.index:08d}",
        "sku": f"PC-{piece.index:08d}" if piece.serialized else f"SKU-{piece.index % 40_000:05d}",
        "name": f"{metal.title()} {category[:-1]}", "category": category, "description": None,
        "tracking": "serialized" if piece.serialized else "bulk", "status": status, "quantity": quantity,
        "reserved_quantity": 0, "low_stock_threshold": None if piece.serialized else 10,
        "location_id": piece.location_id, "room_type": _room(piece.index), "price": price,
        "cost": (price * Decimal("0.48")).quantize(Decimal("0.01")), "currency": "USD",
        "supplier_id": f"SUP-{piece.index % 50:03d}", "certification": lab,
        "cert_number": f"{lab}-{100000000 + piece.index}" if lab else None, "attributes": encode_json(attributes),
        "last_moved_at": last, "created_at": created, "updated_at": last, "version": len(piece.history),
    }
    # Built as a dict and read back in ITEM_COLUMNS order, so a column can never shift into its neighbour.
    return tuple(row[name] for name in ITEM_COLUMNS)


def _room(index: int) -> str:
    return "vault" if index % 7 == 0 else "sales_floor"


def _movement_rows(piece: _Piece, organization_id: str, item_id: str, room: str) -> Iterator[tuple]:
    running = 0
    for version, (stamp, change, reason) in enumerate(piece.history, start=1):
        running += change
        yield (new_id("mov"), organization_id, item_id, version, change, running, reason, None, None, "bench",
               piece.location_id, room, stamp)


def load_inventory(url: str, organization_id: str, *, items: int, movements: int) -> Fixture:
    """Locations through the service, then items and their histories by bulk load (two passes, one seed)."""
    import json

    from vitrina.inventory import service
    from vitrina.inventory.models import Item, Movement

    database = Database(url)
    with database.unit_of_work(organization_id=organization_id) as session:
        locations = [service.create_location(session, organization_id=organization_id, name=f"Store {n:02d}",
                                              code=f"S{n:02d}", address=None, timezone="UTC").id
                     for n in range(20)]
    end = now()
    start = end - timedelta(days=365)
    mean_moves = movements / items
    ids = [new_id("itm") for _ in range(items)]
    encode_json = json.dumps if not database.is_sqlite else (lambda value: value)

    def item_rows() -> Iterator[tuple]:
        for index in range(items):
            yield _item_row(_piece(index, locations, start, end, mean_moves), organization_id, ids[index],
                            encode_json)

    def movement_rows() -> Iterator[tuple]:
        for index in range(items):
            piece = _piece(index, locations, start, end, mean_moves)
            yield from _movement_rows(piece, organization_id, ids[index],
                                      _room(index))

    copy_rows(database, Item.__table__, ITEM_COLUMNS, item_rows())  # type: ignore[arg-type]
    copy_rows(database, Movement.__table__, MOVEMENT_COLUMNS, movement_rows())  # type: ignore[arg-type]
    if not database.is_sqlite:
        # VACUUM as well as ANALYZE: it sets the visibility map, without which no index-only scan skips the
        # heap. Autovacuum does the same soon after a bulk load in production; the scenarios measure that
        # steady state, not the minutes right after a COPY.
        with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE inventory_items")
            connection.exec_driver_sql("VACUUM ANALYZE inventory_movements")
    bulk = [ids[i] for i in range(items) if not random.Random(i).random() < 0.6]
    database.dispose()
    return Fixture(location_ids=locations, item_ids=ids, bulk_item_ids=bulk, history_start=start,
                   history_end=end, big_location_id=locations[0], big_location_items=len(range(0, items, 20)))


def sum_quantities(url: str, item_ids: list[str]) -> int:
    from vitrina.inventory.models import Item

    database = Database(url)
    with database.engine.connect() as connection:
        total = connection.execute(select(func.coalesce(func.sum(Item.quantity), 0))
                                   .where(Item.id.in_(item_ids))).scalar_one()
    database.dispose()
    return int(total)


def ledger_violations(url: str) -> int:
    """Items whose quantity differs from the sum of their movements (must be zero after every run)."""
    from vitrina.inventory.models import Item, Movement

    database = Database(url)
    sums = select(Movement.item_id, func.sum(Movement.quantity_change).label("total")).group_by(
        Movement.item_id).subquery()
    with database.engine.connect() as connection:
        count = connection.execute(select(func.count()).select_from(Item).join(sums, sums.c.item_id == Item.id)
                                   .where(Item.quantity != sums.c.total)).scalar_one()
    database.dispose()
    return int(count)


def prepare_catalog(url: str, organization_id: str, fixture: Fixture) -> None:
    """Demo catalog and price tables; the pricing scenario quotes the seed's bridal ring with five stones
    (the catalog's own ``BENCH_CONFIGURATION`` when it provides one, else ``bench.fixtures``')."""
    catalog_demo = _optional("vitrina.catalog.demo", fixture)
    if catalog_demo is None:
        return
    try:
        database = Database(url)
        with database.unit_of_work(organization_id=organization_id) as session:
            fixtures.seed_catalog(session, organization_id)
        database.dispose()
    except Exception as exc:
        fixture.notes.append(f"catalog demo seed failed: {type(exc).__name__}: {exc}")
        return
    fixture.configuration_body = getattr(catalog_demo, "BENCH_CONFIGURATION", None) or fixtures.bridal_configuration()


def prepare_passports(url: str, organization_id: str, fixture: Fixture, *, server_secret: str, tags: int = 200,
                      taps_per_tag: int = 50) -> None:
    """Passports on simulated NTAG 424 DNA tags, and a stream of fresh SUN messages (rising counters), sealed
    with the server's secret (the provenance domain's ``bench_sun_messages`` when it provides one)."""
    provenance_demo = _optional("vitrina.provenance.demo", fixture)
    if provenance_demo is None:
        return
    try:
        database = Database(url)
        with database.unit_of_work(organization_id=organization_id) as session:
            own = getattr(provenance_demo, "bench_sun_messages", None)
            fixture.sun_messages = (
                own(session, organization_id=organization_id, tags=tags, taps_per_tag=taps_per_tag) if own else
                fixtures.sun_messages(session, organization_id=organization_id, tags=tags,
                                      taps_per_tag=taps_per_tag, server_secret=server_secret))
        database.dispose()
    except Exception as exc:
        fixture.notes.append(f"SUN message fixtures failed: {type(exc).__name__}: {exc}")


def _optional(module: str, fixture: Fixture) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        fixture.notes.append(f"{module} is not available ({exc}); its scenarios are skipped")
        return None
