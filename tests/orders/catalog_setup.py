"""A configurable product in the catalog for order tests, and the seed's "Full Order Data" example."""

from __future__ import annotations

import importlib.util
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import OrgContext

# WJ Partners' "Full Order Data" example, transcribed from the seed (``full_order_data_from_seed`` reads it from
# the seed itself and a test proves the two equal). Its `engraving` is printed as `["e0": {...}, "e1": {...}]`,
# which is not JSON; the only JSON it can mean is the object below.
FULL_ORDER_DATA: dict[str, Any] = {
    "order_date": 1559229507,
    "order_purpose": 1,
    "order_type": 1,
    "shipping_address": "City, Country",
    "customer_id": 19,
    "customer_email": "abc@gmail.com",
    "customer_phone": "34124",
    "customer_name": "Jon Doe",
    "billing_address": "Country, City",
    "payment_status": 2,
    "order_status": 3,
    "currency": 1,
    "items": {
        "qty": 1,
        "vendor_model": "RPD104",
        "configuration": {
            "chain": {"type": "C1", "metal": {"sku": "f", "color": "R"}},
            "pendant": {
                "stones": 3,
                "stone": [
                    {"sku": "sss", "shape": "rd", "weight": "k", "position": 2},
                    {"sku": "dst", "shape": "rd", "weight": "k", "position": 3},
                    {"sku": "fsa", "shape": "rd", "weight": "k", "position": 1},
                ],
                "metal": {"sku": "f", "color": "Y"},
            },
            "engraving": {
                "e0": {"font": "satisfy", "text": "ABC"},
                "e1": {"font": "satisfy", "text": "ABC"},
            },
        },
    },
}

WJ_SEED = "001_7b06f6e658f5997b.txt"
# The seeds sit beside the repository (``../shared/seeds``); VITRINA_SEEDS_DIR points elsewhere.
_SEED_DIRS = [Path(os.environ["VITRINA_SEEDS_DIR"])] if os.environ.get("VITRINA_SEEDS_DIR") else []
_SEED_DIRS.append(Path(__file__).resolve().parents[3] / "shared" / "seeds")
# `"engraving": [ "e0": {...}, "e1": {...} ]`: a list written with keys. No bracket occurs inside it.
_KEYED_LIST = re.compile(r'"engraving":\s*\[([^\[\]]*)\]')


def full_order_data_from_seed() -> dict[str, Any]:
    """The body printed under "Full Order Data" in WJ's seed, taken from the seed text itself: the first JSON
    object after that heading that starts with ``order_date``. Its one non-JSON construct, the keyed list of
    engraving lines, becomes the object it means; everything else is parsed exactly as printed."""
    seed = next((d / WJ_SEED for d in _SEED_DIRS if (d / WJ_SEED).is_file()), None)
    if seed is None:
        pytest.skip(f"the WJ Partners seed {WJ_SEED} is not in {[str(d) for d in _SEED_DIRS]}")
    text = seed.read_text(encoding="utf-8")
    start = text.index('{\n  "order_date"', text.index("Full Order Data"))
    depth, end = 0, start
    while True:  # to the brace that closes the body (the example has no braces inside strings)
        depth += {"{": 1, "}": -1}.get(text[end], 0)
        end += 1
        if depth == 0:
            break
    body: dict[str, Any] = json.loads(_KEYED_LIST.sub(r'"engraving": {\1}', text[start:end]))
    return body


METAL_SKU = "f"
STONES = ("sss", "dst", "fsa")


def require_catalog() -> None:
    """Skip the calling test, naming why, when this build has no catalog (orders are priced by it)."""
    if importlib.util.find_spec("vitrina.catalog.service") is None:
        pytest.skip("vitrina.catalog.service is absent: orders are priced by the catalog")


@dataclass
class CatalogProduct:
    vendor_model: str
    configuration: dict[str, Any]
    invalid_configuration: dict[str, Any]
    size: int | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def raise_prices(self, client: httpx.Client, org: OrgContext) -> None:
        """Make the catalog dearer (orders already placed must keep their price)."""
        _put_metal(client, org, cost_per_gram="95.00")


def _put_metal(client: httpx.Client, org: OrgContext, *, cost_per_gram: str) -> None:
    response = client.put(f"/api/v1/prices/metals/{METAL_SKU}", headers=org.headers, json={
        "material_title": "14K Gold", "cost_per_gram": cost_per_gram, "currency": "USD", "density_g_cm3": "13.07",
        "purity": "0.585"})
    assert response.status_code in (200, 201), response.text


def _options() -> dict[str, Any]:
    """WJ's RPD104 (a pendant on a chain, three stones, two engraving lines) in the catalog's option shape."""
    metal = [{"material_sku": METAL_SKU, "color": ["R", "Y", "W"]}]
    stones = [{"sku": sku, "stone_shape": ["rd"], "weight_stone": ["k"], "quality": "AAA"} for sku in STONES]
    return {
        "chain": {"types": [{"sku": "C1", "labor": "10"}], "metal": metal, "metal_weight_g": "3"},
        "pendant": {"metal": metal, "metal_weight_g": "2", "labor": "50", "stone": stones, "stones_max": 3,
                    "positions": 3},
        "engraving": {"enabled": True, "fonts": ["satisfy"], "options": {"e0": {}, "e1": {}}, "min_chars": 1,
                      "max_chars": 12, "price": "25"},
        "size": {"min": 14, "max": 24},
    }


def make_product(client: httpx.Client, org: OrgContext) -> CatalogProduct:
    """The seed's RPD104 in the catalog of ``org``, with the metal and stone prices it needs (through the API)."""
    require_catalog()
    _put_metal(client, org, cost_per_gram="60.00")
    for cost, sku in zip(("120.00", "80.00", "45.50"), STONES, strict=True):
        response = client.put("/api/v1/prices/stones", headers=org.headers, json={
            "material_sku": sku, "stone_shape": "rd", "weight_stone": "k", "quality": "AAA", "cost": cost,
            "currency": "USD"})
        assert response.status_code in (200, 201), response.text
    response = client.post("/api/v1/products", headers=org.headers, json={
        "vendor_model": "RPD104", "title": "Three-stone pendant", "product_type": 2, "currency": "USD",
        "options": _options()})
    assert response.status_code == 201, response.text
    configuration = FULL_ORDER_DATA["items"]["configuration"]
    return CatalogProduct(vendor_model="RPD104", configuration=configuration,
                          invalid_configuration={"ring": {"metal": {"sku": "zz"}}}, size=16,
                          details=dict(response.json()["data"]))
