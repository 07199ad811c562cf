"""Fixtures for the catalog and provenance scenarios, built with those domains' public functions.

Used when the domains do not provide their own hooks (``vitrina.catalog.demo.BENCH_CONFIGURATION``,
``vitrina.provenance.demo.bench_sun_messages``): the bridal ring of the catalog demo seed with five stones, and
passports on simulated NTAG 424 DNA tags with a stream of genuine SUN messages (rising read counters).
Also ``python -m bench.fixtures pricing-cpu DATABASE_URL``: the CPU time of pricing one such configuration.
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import time
from typing import Any

from rich.console import Console
from sqlalchemy import select
from sqlalchemy.orm import Session

BRIDAL_MODEL = "RCR21"


def bridal_configuration() -> dict[str, Any]:
    """The ``POST /product-configurations`` body: the demo's bridal ring, a center stone and four band stones
    (five stones chosen, plus the head's diamond halo), engraved on two slots, size 6."""
    from vitrina.catalog import demo

    configuration = copy.deepcopy(demo.EXAMPLES["bridal"][1])
    configuration["band"] = {"stones": 4, "metal": {"sku": "f", "color": "Y"},
                             "stone": [{"sku": "dmnd", "shape": "rd", "weight": "c", "position": position}
                                       for position in range(1, 5)]}
    return {"items": {"qty": 1, "vendor_model": BRIDAL_MODEL, "size": 6, "configuration": configuration}}


def seed_catalog(session: Session, organization_id: str) -> None:
    """The catalog demo (metal and stone prices, the six products) unless the bridal ring is already there."""
    from vitrina.catalog import demo, service
    from vitrina.catalog.errors import ProductNotFound

    try:
        service.get_product(session, organization_id=organization_id, product_id=BRIDAL_MODEL)
    except ProductNotFound:
        demo.seed(session, organization_id=organization_id, console=Console(quiet=True))


def sun_messages(session: Session, *, organization_id: str, tags: int, taps_per_tag: int,
                 server_secret: str) -> list[tuple[str, str, str]]:
    """Passports on ``tags`` simulated tags and ``taps_per_tag`` fresh SUN messages for each, as
    ``(tag_id, picc_data, cmac)``, interleaved across tags so each tag's counters rise in request order.

    ``server_secret`` must be the server's (it seals the organization's master key)."""
    from vitrina.provenance import crypto, service

    master = service.master_key(session, organization_id=organization_id, server_secret=server_secret)
    assert master is not None
    meta_key = crypto.meta_read_key(master)
    tagged: list[tuple[str, bytes, bytes]] = []
    for number in range(tags):
        uid = b"\x04" + os.urandom(6)
        passport = service.register_passport(
            session, organization_id=organization_id, server_secret=server_secret, tag_id=f"BENCH-{number:05d}",
            product_name=f"Bench piece {number}", brand="Bench", serial_number=f"BN-{number:05d}",
            sun={"uid": uid.hex()})
        tagged.append((passport.tag_id, uid, crypto.file_read_key(master, uid)))
    messages = []
    for counter in range(1, taps_per_tag + 1):
        for tag_id, uid, file_key in tagged:
            picc = crypto.encrypt_picc_data(meta_key, uid, counter).hex().upper()
            messages.append((tag_id, picc, crypto.sdm_mac(file_key, uid, counter).hex().upper()))
    return messages


def pricing_cpu(url: str, repeat: int = 300) -> dict[str, Any]:
    """CPU time (``time.process_time``) to price the bridal configuration: the pricing engine alone, and the
    whole service call (product and price-book reads, ``ci``, store) including the database client's CPU."""
    from vitrina.catalog import pricing, service
    from vitrina.db.session import Database
    from vitrina.inventory.models import Location

    database = Database(url)
    body = bridal_configuration()["items"]
    with database.unit_of_work() as session:
        organization_id = session.scalar(select(Location.organization_id).limit(1))
        assert organization_id is not None
        seed_catalog(session, organization_id)
    with database.unit_of_work() as session:
        product = service.get_product(session, organization_id=organization_id, product_id=BRIDAL_MODEL)
        book = service.price_book(session, organization_id=organization_id)

        def engine() -> None:
            pricing.evaluate(product.options, body["configuration"], body["size"], book=book,
                             currency=product.currency, markup=product.markup)

        def whole_call() -> None:
            service.price_configuration(session, organization_id=organization_id, vendor_model=BRIDAL_MODEL,
                                        configuration=body["configuration"], size=body["size"], qty=1,
                                        tier_id=None, book=book)

        result = {"engine_cpu_ms": _cpu_ms(engine, repeat), "service_call_cpu_ms": _cpu_ms(whole_call, repeat)}
    database.dispose()
    return result


def _cpu_ms(action: Any, repeat: int) -> dict[str, float]:
    samples = []
    for _ in range(5):
        action()  # warm caches
    for _ in range(repeat):
        started = time.process_time()
        action()
        samples.append((time.process_time() - started) * 1000)
    samples.sort()
    return {"median": round(statistics.median(samples), 3), "p90": round(samples[int(len(samples) * 0.9)], 3),
            "mean": round(statistics.fmean(samples), 3)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fixtures", description=__doc__)
    parser.add_argument("command", choices=["pricing-cpu"])
    parser.add_argument("url", help="a database kept by `vitrina bench --keep` (or any migrated one with an org)")
    parser.add_argument("--repeat", type=int, default=300)
    args = parser.parse_args(argv)
    print(pricing_cpu(args.url, args.repeat))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
