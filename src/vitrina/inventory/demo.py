"""Demo inventory for ``vitrina seed-demo``: three locations, a few thousand certified pieces, bulk findings and
chains, and a year of movements (receipts, transfers, sales, returns, counts, holds).

Everything goes through the service with a simulated clock (``ledger.CLOCK_KEY``), so the history is a real,
consistent ledger: ``vitrina check`` passes and snapshots of past dates show the stock of the time.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from rich.console import Console
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vitrina.core.errors import VitrinaError
from vitrina.core.time import utcnow
from vitrina.inventory import ledger, service
from vitrina.inventory.models import Item, Movement

SERIALIZED_PIECES = 2400
MONTHS = 12
_RANDOM_SEED = 1847  # deterministic demo data

_LOCATIONS = (
    ("Fifth Avenue Flagship", "FLAGSHIP", "America/New_York", {"line1": "725 Fifth Avenue", "city": "New York"}),
    ("Vault & Workshop", "VAULT", "America/New_York", {"line1": "47 W 47th Street", "city": "New York"}),
    ("Woodbury Outlet", "OUTLET", "America/New_York", {"line1": "498 Red Apple Ct", "city": "Central Valley"}),
)
_METALS = (("18K white gold", 18), ("18K yellow gold", 18), ("14K rose gold", 14), ("platinum 950", None))
_CUTS = ("round brilliant", "oval", "cushion", "emerald", "pear", "princess", "radiant")
_COLORS, _CLARITIES = "DEFGHIJ", ("IF", "VVS1", "VVS2", "VS1", "VS2", "SI1")
_CATEGORIES = (("rings", "Solitaire ring", 0.45), ("earrings", "Stud earrings", 0.2),
               ("pendants", "Pendant", 0.15), ("bracelets", "Tennis bracelet", 0.1),
               ("necklaces", "Riviera necklace", 0.1))
_BULK = (("CH-18-14KY", "Cable chain 18in 14K yellow", "chains", "89.00", "31.00", 40, 10),
         ("CH-20-SS", "Box chain 20in sterling", "chains", "45.00", "12.50", 60, 15),
         ("FN-LOBSTER-14K", "Lobster clasp 14K", "findings", "18.00", "6.20", 200, 40),
         ("FN-JUMP-4MM", "Jump rings 4mm 14K (pack of 10)", "findings", "22.00", "7.00", 120, 25),
         ("FN-EARBACK-PT", "Platinum earring backs (pair)", "findings", "65.00", "28.00", 80, 20),
         ("PK-RINGBOX", "Ring box, navy velvet", "packaging", "0.00", "3.40", 300, 60))


@dataclass
class _Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


def seed(session: Session, *, organization_id: str, console: Console) -> dict[str, Any]:
    rng = random.Random(_RANDOM_SEED)
    start = utcnow().replace(microsecond=0) - timedelta(days=365)
    clock = _Clock(start)
    session.info[ledger.CLOCK_KEY] = clock
    try:
        locations = [service.create_location(session, organization_id=organization_id, name=name, code=code,
                                             address=address, timezone=tz).id
                     for name, code, tz, address in _LOCATIONS]
        console.print(f"inventory: {len(locations)} locations")
        _receive_bulk(session, organization_id, locations)
        pieces = _receive_pieces(session, organization_id, locations, rng, clock, start)
        console.print(f"inventory: {len(pieces)} certified pieces and {len(_BULK) * 3} bulk lines received")
        operations = _history(session, organization_id, locations, pieces, rng, start)
        done = _play(session, operations, clock)
        console.print(f"inventory: {done} movements, holds and counts over the past year")
        clock.now = utcnow()
        _holds(session, organization_id, pieces, rng)
    finally:
        session.info.pop(ledger.CLOCK_KEY, None)
    session.flush()
    movements = session.scalar(select(func.count()).select_from(Movement)
                               .where(Movement.organization_id == organization_id))
    items = session.scalar(select(func.count()).select_from(Item).where(Item.organization_id == organization_id))
    return {"inventory_locations": len(locations), "inventory_items": items, "inventory_movements": movements}


def _receive_bulk(session: Session, organization_id: str, locations: list[str]) -> None:
    rows = []
    for location, code in zip(locations, ("F", "V", "O"), strict=True):
        for sku, name, category, price, cost, quantity, threshold in _BULK:
            rows.append({"external_id": f"{sku}-{code}", "sku": sku, "name": name, "category": category,
                         "tracking": "bulk", "quantity": quantity, "low_stock_threshold": threshold,
                         "price": price, "cost": cost, "location_id": location,
                         "room_type": "vault" if code == "V" else "sales_floor", "supplier_id": "SUP-STULLER"})
    service.receive_many(session, organization_id=organization_id, actor="demo", rows=rows)


def _receive_pieces(session: Session, organization_id: str, locations: list[str], rng: random.Random,
                    clock: _Clock, start: datetime) -> list[str]:
    """Pieces arrive in monthly shipments, most into the vault, some straight onto the flagship's floor."""
    pieces: list[str] = []
    per_month = SERIALIZED_PIECES // MONTHS
    for month in range(MONTHS):
        clock.now = start + timedelta(days=30 * month, hours=10)
        rows = [_piece_row(len(pieces) + n, locations, rng) for n in range(per_month)]
        outcomes = service.receive_many(session, organization_id=organization_id, actor="demo", rows=rows)
        pieces += [external_id for external_id, _ in outcomes]
    return pieces


def _piece_row(number: int, locations: list[str], rng: random.Random) -> dict[str, Any]:
    category, label, _share = rng.choices(_CATEGORIES, weights=[c[2] for c in _CATEGORIES])[0]
    metal, karat = rng.choice(_METALS)
    carat = round(rng.lognormvariate(-0.2, 0.5), 2)
    cut, lab = rng.choice(_CUTS), rng.choices(("GIA", "IGI"), weights=(3, 1))[0]
    color, clarity = rng.choice(_COLORS), rng.choice(_CLARITIES)
    cost = (Decimal(str(carat)) ** 2 * Decimal(rng.randint(3800, 6200)) + Decimal(rng.randint(400, 1400)))
    cert = f"GIA-{rng.randint(10**9, 10**10 - 1)}" if lab == "GIA" else f"IGI-LG{rng.randint(10**8, 10**9 - 1)}"
    at_flagship = rng.random() < 0.35
    return {
        "external_id": f"JWL-{10000 + number}", "sku": f"{category[:3].upper()}-{cut[:3].upper()}-{number:05d}",
        "name": f"{carat:.2f} ct {cut} {label.lower()}, {metal}", "category": category,
        "description": f"{lab}-certified {carat:.2f} ct {cut} diamond, {color} {clarity}, set in {metal}.",
        "tracking": "serialized", "quantity": 1, "certification": lab, "cert_number": cert,
        "price": str((cost * Decimal("2.4")).quantize(Decimal("1"))), "cost": str(cost.quantize(Decimal("0.01"))),
        "supplier_id": rng.choice(("SUP-789", "SUP-ANTWERP-12", "SUP-MUMBAI-3")),
        "location_id": locations[0] if at_flagship else locations[1],
        "room_type": "sales_floor" if at_flagship else "vault",
        "attributes": {"metal": metal, "karat": karat, "weight_g": round(rng.uniform(2.1, 14.0), 1),
                       "stones": [{"type": "diamond", "carat": carat, "cut": cut, "color": color,
                                   "clarity": clarity, "lab": lab}]},
    }


Operation = tuple[datetime, Callable[[], object]]


def _history(session: Session, organization_id: str, locations: list[str], pieces: list[str],
             rng: random.Random, start: datetime) -> list[Operation]:
    """The year's operations, each at its own instant (played in time order by ``_play``)."""
    flagship, _vault, outlet = locations
    org = organization_id
    operations: list[Operation] = []
    per_month = SERIALIZED_PIECES // MONTHS
    for index, ref in enumerate(pieces):
        arrived = start + timedelta(days=30 * (index // per_month), hours=10)
        left = (start + timedelta(days=365)) - arrived
        if left.days < 3:
            continue
        moment = arrived + timedelta(days=rng.uniform(1, left.days / 2))
        if rng.random() < 0.5:  # shown on a floor first
            target = rng.choices((flagship, outlet), weights=(4, 1))[0]
            operations.append((moment, _call(service.transfer_item, session, organization_id=org, item_id=ref,
                                             to_location_id=target, to_room_type="sales_floor", quantity=1,
                                             actor="demo")))
        if rng.random() < 0.4:  # sold some time later; a few come back
            sold_at = moment + timedelta(days=rng.uniform(0.5, max(left.days / 2 - 1, 1)))
            receipt = f"legacy-pos:{rng.randint(100000, 999999)}"
            operations.append((sold_at, _call(service.sell_item, session, organization_id=org, item_id=ref,
                                              quantity=1, actor="demo", reference=receipt)))
            if rng.random() < 0.04:
                operations.append((sold_at + timedelta(days=rng.uniform(1, 14)),
                                   _call(service.return_item, session, organization_id=org, item_id=ref,
                                         quantity=1, actor="demo", reference=receipt)))
    for week in range(52):
        when = start + timedelta(weeks=week, days=2, hours=15)
        for location_code in ("F", "O"):
            sku = rng.choice(_BULK)[0]
            operations.append((when, _call(service.adjust_quantity, session, organization_id=org,
                                           item_id=f"{sku}-{location_code}", quantity_change=-rng.randint(1, 6),
                                           reason_code="SALE", actor="demo", reference="legacy-pos")))
        if week % 4 == 3:  # restock the floors from the vault, and count the vault
            for sku, *_rest in _BULK[:4]:
                operations.append((when + timedelta(hours=1), _call(
                    service.transfer_item, session, organization_id=org, item_id=f"{sku}-V",
                    to_location_id=flagship, to_room_type="sales_floor", quantity=rng.randint(4, 12), actor="demo")))
            operations.append((when + timedelta(hours=2), _call(
                service.adjust_quantity, session, organization_id=org, item_id=f"{rng.choice(_BULK)[0]}-V",
                quantity_change=rng.choice((-2, -1, 1)), reason_code="AUDIT", actor="demo", notes="monthly count")))
    return operations


def _call(function: Callable[..., object], *args: Any, **kwargs: Any) -> Callable[[], object]:
    return lambda: function(*args, **kwargs)


def _play(session: Session, operations: list[Operation], clock: _Clock) -> int:
    done = 0
    for moment, operation in sorted(operations, key=lambda op: op[0]):
        clock.now = moment
        savepoint = session.begin_nested()  # like a request: a refused operation leaves nothing behind
        try:
            operation()
        except VitrinaError:  # e.g. a piece already sold earlier in the story: skip it, as a store would
            savepoint.rollback()
            continue
        savepoint.commit()
        done += 1
    return done


def _holds(session: Session, organization_id: str, pieces: list[str], rng: random.Random) -> None:
    """A few current customer holds, some expiring soon."""
    for ref in rng.sample(pieces, 25):
        expires = utcnow() + timedelta(days=rng.randint(1, 10)) if rng.random() < 0.6 else None
        try:
            service.reserve_item(session, organization_id=organization_id, item_id=ref, quantity=1,
                                 reference=f"hold:{rng.choice(('Ms. Chen', 'Mr. Alvarez', 'Dr. Okafor'))}",
                                 expires_at=expires, actor="demo")
        except VitrinaError:
            continue
