"""A catalog a WJ store would find: the seed's five kinds of product (pendant, ring, bridal ring, earring,
bracelet) with options that admit the seed's five configuration examples, and the metal and stone price
tables they are priced from. Built with the catalog service (the same functions ``/api/v1`` calls)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.support import OrgContext
from vitrina.db.session import Database

catalog = pytest.importorskip("vitrina.catalog.service",
                              reason="the catalog domain (vitrina.catalog.service) is not in this tree yet")

PARTNER_ID = "123123"  # the seed's products all carry this partner id
COLORS = [{"sku": "R", "title": "Rose"}, {"sku": "Y", "title": "Yellow"}, {"sku": "W", "title": "White"}]
GOLD_14K = [{"material_sku": "f", "material_title": "14K GOLD", "sort": 0, "color": COLORS}]
STONES = [
    {"sku": sku, "title": title, "description": description, "image": "", "weight_stone": "k", "stone_shape": "rd",
     "quality": "AAA", "type": 1, "sort": 0}
    for sku, title, description in (("sss", "Sep", "Sapphire"), ("dst", "Dec", "Turquoise"), ("fsa", "Feb",
                                                                                            "Amethyst"))
]
SLOT = {"show": True, "minChar": 2, "maxChar": 15, "radius": 400, "angle": 1.34, "posX": 485, "posY": 250,
        "skewX": 0, "skewY": 0}
ENGRAVING = {"enabled": 1, "price": 25,
             "fonts": [{"sku": "handlee", "title": "Handlee"}, {"sku": "satisfy", "title": "Satisfy"},
                       {"sku": "charm", "title": "Charm"}],
             "options": {"e0": {"s2": SLOT}, "e1": {"s2": SLOT}}}


def _simple_part(**extra: Any) -> dict[str, Any]:
    return {"stones_max": 3, "stone": STONES, "metal": GOLD_14K, "metal_weight_g": "2.5", "labor": "40", **extra}


BRIDAL_METAL = [{"material_sku": "F", "material_title": "14K GOLD", "color": COLORS}]
BRIDAL = {
    "head": {
        "types": {"HS4": {"sku": "HS4", "title": "Cusion Halo"}},
        "center_stone": {"DI": {"sku": "DI", "title": "Diamond", "count": 1,
                                "stone_shape": {"RD": {"sku": "RD", "title": "Round"}},
                                "stone_weight": {"F": {"sku": "F", "title": "1/3 CT."}},
                                "stone_color": {"W": {"sku": "W", "title": "White"}},
                                "stone_clarity": {"SI2": {"sku": "SI2", "title": "SI2"}}}},
        "additional_stones": {"DI": {"sku": "DI", "title": "Diamond", "count": 12, "stone_shape": "RD",
                                     "weight_stone": "a", "quality": "SI2",
                                     "stone_color": {"W": {"sku": "W", "title": "White"}}}},
        "metal": BRIDAL_METAL, "metal_weight_g": "1.6", "labor": "120",
    },
    "shank": {
        "types": {"HS4": {"sku": "HS4", "title": "HR1"}},
        "side_settings": {"PS": {"sku": "PS", "title": "Pave", "length": {"SL1": {"sku": "SL1", "title": "Half"}},
                                 "stone": {"NO": {"sku": "NO", "title": "None"}},
                                 "stone_color": {"U": {"sku": "U", "title": "Unset"}}}},
        "carving": {"CA0": {"sku": "CA0", "title": "CA0", "length": {"CL1": {"sku": "CL1", "title": "CL1"}}}},
        "metal": BRIDAL_METAL, "metal_weight_g": "3.1", "labor": "80",
    },
    "engraving": ENGRAVING,
}

PRODUCTS: dict[str, dict[str, Any]] = {
    "pendant": {"vendor_model": "RPD104", "title": "Diamond heart Pendant", "jewelry_type": 7,
                "description": "1-3 Stones heart style Pendant", "gender": 1, "status": 2,
                "image_url": "https://cdn.example/zbuilder/necklace/RPD104/RPD104-PLP.png",
                "options": {"chain": {"types": {"C1": {"sku": "C1", "title": "Cable Chain"}}, "metal": GOLD_14K,
                                      "length": [16, 18, 20], "metal_weight_g": "2.1", "labor": "15"},
                            "pendant": _simple_part(stones_max=7), "engraving": ENGRAVING}},
    "ring": {"vendor_model": "RRG106", "title": "Diamond Ring", "jewelry_type": 8, "description": "1-3 Diamond Ring",
             "gender": 1, "status": 2, "options": {"ring": _simple_part(), "engraving": ENGRAVING}},
    "bridal": {"vendor_model": "RCR21", "title": "Simplicity Petite Trio Engagement Ring", "jewelry_type": 8,
               "product_type": 2, "gender": 1, "status": 2, "options": BRIDAL},
    "earring": {"vendor_model": "REA011", "title": "Fashion Earrings", "jewelry_type": 4, "gender": 1, "status": 2,
                "options": {"earring": _simple_part(length=[16]), "engraving": ENGRAVING}},
    "bracelet": {"vendor_model": "RBR007", "title": "Fashion Bracelet", "jewelry_type": 5, "gender": 1, "status": 2,
                 "options": {"bracelet": _simple_part(length=[16, 18, 20]), "engraving": ENGRAVING}},
}

METALS = [("f", "14K GOLD", "28.79", "13.07", "0.585")]
STONE_PRICES = [("sss", "rd", "k", "AAA", "120"), ("dst", "rd", "k", "AAA", "95"), ("fsa", "rd", "k", "AAA", "60"),
                ("DI", "RD", "F", "SI2", "900"), ("DI", "RD", "a", "SI2", "15")]


def build_catalog(database: Database, org: OrgContext) -> dict[str, str]:
    """The five products (kind → vendor_model) and the price tables, in ``org``."""
    with database.unit_of_work(organization_id=org.id) as session:
        for sku, title, cost, density, purity in METALS:
            catalog.put_metal_price(session, organization_id=org.id, material_sku=sku, material_title=title,
                                    cost_per_gram=Decimal(cost), currency="USD", density_g_cm3=Decimal(density),
                                    purity=Decimal(purity))
        for material, shape, weight, quality, cost in STONE_PRICES:
            catalog.put_stone_price(session, organization_id=org.id, material_sku=material, material_title=None,
                                    stone_shape=shape, weight_stone=weight, quality=quality, weight_from=None,
                                    weight_to=None, cost=Decimal(cost), currency="USD")
        for fields in PRODUCTS.values():
            catalog.create_product(session, organization_id=org.id,
                                   fields={"partner_id": PARTNER_ID, "currency": "USD", **fields})
    return {kind: str(fields["vendor_model"]) for kind, fields in PRODUCTS.items()}


def quote(database: Database, org: OrgContext, *, vendor_model: str, configuration: dict[str, Any],
          size: Any = None) -> Any:
    """What the catalog service itself says about a configuration (the WJ answer must say the same)."""
    with database.unit_of_work(organization_id=org.id) as session:
        return catalog.price_configuration(session, organization_id=org.id, vendor_model=vendor_model,
                                           configuration=configuration, size=size, qty=1, tier_id=None)


def add_product(database: Database, org: OrgContext, fields: dict[str, Any]) -> None:
    """One more product in ``org`` (e.g. the seed's own example pendant ``RPD117``)."""
    with database.unit_of_work(organization_id=org.id) as session:
        catalog.create_product(session, organization_id=org.id,
                               fields={"partner_id": PARTNER_ID, "currency": "USD", **fields})
