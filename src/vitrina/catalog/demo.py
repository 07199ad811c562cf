"""Demo catalog for ``vitrina seed-demo``: realistic metal and stone price tables and WJ-style products (a
pendant with chain, a ring, earrings, a bracelet and a bridal ring), all created through the service.

The data is also what the catalog tests post over HTTP, so the demo and the tests price the same pieces.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rich.console import Console
from sqlalchemy.orm import Session

from vitrina.catalog import service

# (sku, title, cost per gram USD, density g/cm³, purity). Costs follow gold ≈ $85/g and platinum ≈ $32/g fine
# weight plus alloy and fabrication; densities are the usual trade figures for yellow alloys and platinum.
METALS: tuple[tuple[str, str, str, str, str], ...] = (
    ("c", "9K GOLD", "33.20", "11.20", "0.375"),
    ("k", "10K GOLD", "36.90", "11.57", "0.417"),
    ("f", "14K GOLD", "51.40", "13.07", "0.585"),
    ("q", "18K GOLD", "65.50", "15.58", "0.750"),
    ("s", "STERLING SILVER", "1.05", "10.36", "0.925"),
    ("r", "PLAT 90", "31.50", "21.54", "0.900"),
    ("p", "PLAT 95", "33.10", "20.70", "0.950"),
)
# Diamond cost per stone by weight class (round, VS2), scaled by quality and shape below.
_DIAMOND_WEIGHTS = (("a", "0.01", "18"), ("b", "0.02", "32"), ("c", "0.05", "70"), ("d", "0.10", "150"),
                    ("e", "0.25", "350"), ("f", "0.33", "575"), ("g", "0.375", "775"), ("h", "0.50", "1400"),
                    ("j", "0.75", "2600"), ("k", "1.00", "4800"))
_QUALITY = (("VS2", "1"), ("SI1", "0.82"), ("SI2", "0.68"))
_SHAPES = (("rd", "1"), ("ov", "0.95"), ("cu", "0.90"), ("pr", "0.85"))
# Birthstones by month (sku, title, description, cost of a 1/4 ct, 1/2 ct and 1 ct stone, quality AAA).
BIRTHSTONES: tuple[tuple[str, str, str, str, str, str], ...] = (
    ("jgr", "Jan", "Garnet", "18", "35", "80"), ("fsa", "Feb", "Amethyst", "12", "22", "45"),
    ("maq", "Mar", "Aquamarine", "30", "70", "180"), ("awt", "Apr", "White topaz", "10", "18", "40"),
    ("mem", "May", "Emerald", "60", "150", "420"), ("jsp", "June", "Pearl", "15", "28", "60"),
    ("jru", "July", "Ruby", "55", "140", "400"), ("apd", "Aug", "Peridot", "14", "26", "60"),
    ("sss", "Sept", "Sapphire", "50", "130", "380"), ("otr", "Oct", "Tourmaline", "25", "55", "140"),
    ("nct", "Nov", "Citrine", "10", "20", "42"), ("dst", "Dec", "Blue topaz", "11", "21", "44"),
)
_BIRTHSTONE_WEIGHTS = (("e", "0.25"), ("h", "0.50"), ("k", "1.00"))


def metal_rows() -> list[dict[str, Any]]:
    return [{"material_sku": sku, "material_title": title, "cost_per_gram": cost, "currency": "USD",
             "density_g_cm3": density, "purity": purity} for sku, title, cost, density, purity in METALS]


def stone_rows() -> list[dict[str, Any]]:
    rows = []
    for weight, carats, cost in _DIAMOND_WEIGHTS:
        for quality, q_factor in _QUALITY:
            for shape, s_factor in _SHAPES:
                amount = (Decimal(cost) * Decimal(q_factor) * Decimal(s_factor)).quantize(Decimal("0.01"))
                rows.append({"material_sku": "dmnd", "material_title": "Diamond", "stone_shape": shape,
                             "weight_stone": weight, "quality": quality, "weight_from": carats,
                             "weight_to": carats, "cost": str(amount), "currency": "USD"})
    for sku, _month, title, *costs in BIRTHSTONES:
        for (weight, carats), cost in zip(_BIRTHSTONE_WEIGHTS, costs, strict=True):
            rows.append({"material_sku": sku, "material_title": title, "stone_shape": "rd", "weight_stone": weight,
                         "quality": "AAA", "weight_from": carats, "weight_to": carats, "cost": cost,
                         "currency": "USD"})
    for weight, carats, cost in (("a", "0.01", "9"), ("b", "0.02", "16"), ("c", "0.05", "38")):
        rows.append({"material_sku": "sphr", "material_title": "Blue sapphire", "stone_shape": "rd",
                     "weight_stone": weight, "quality": "AAA", "weight_from": carats, "weight_to": carats,
                     "cost": cost, "currency": "USD"})
    return rows


def _metal(sku: str, colors: str = "RYW") -> dict[str, Any]:
    title = next(t for s, t, *_ in METALS if s == sku)
    names = {"R": "Rose", "Y": "Yellow", "W": "White"}
    return {"material_sku": sku, "material_title": title, "sort": 0,
            "color": [{"sku": c, "title": names[c]} for c in colors]}


GOLD_AND_SILVER = [_metal("f"), _metal("q"), _metal("s", "W")]
FONTS = [{"sku": "handlee", "title": "Handlee"}, {"sku": "satisfy", "title": "Satisfy"},
         {"sku": "charm", "title": "Charm"}]


def _birthstones() -> list[dict[str, Any]]:
    return [{"sku": sku, "title": month, "description": title, "image": "", "weight_stone": ["e", "h", "k"],
             "stone_shape": "rd", "quality": "AAA", "type": 1, "sort": index}
            for index, (sku, month, title, *_costs) in enumerate(BIRTHSTONES)]


def _engraving(max_chars: int = 12) -> dict[str, Any]:
    slot = {"s2": {"show": True, "minChar": 1, "maxChar": max_chars}}
    return {"enabled": 1, "min_chars": 1, "max_chars": max_chars, "fonts": FONTS, "price": "15",
            "options": {"e0": slot, "e1": slot}}


def _simple_part(weight: str, labor: str, stones_max: int) -> dict[str, Any]:
    return {"stones_max": stones_max, "stone": _birthstones(), "metal": GOLD_AND_SILVER, "metal_weight_g": weight,
            "labor": labor}


PENDANT: dict[str, Any] = {
    "vendor_model": "RPD104", "partner_id": "WJ-104", "part_number": "PD104-14K", "title": "Family Birthstone Pendant",
    "description": "1-7 birthstones heart pendant on a cable chain", "manufacturer": "WJ Partners",
    "jewelry_type": 7, "product_type": 1, "gender": 1, "status": 2, "markup": "2.2", "currency": "USD",
    "options": {
        "chain": {"types": {"C1": {"sku": "C1", "title": "Cable Chain"},
                            "C2": {"sku": "C2", "title": "Rope Chain", "price": "35"}},
                  "metal": GOLD_AND_SILVER, "length": [16, 18, 20], "metal_weight_g": "2.1", "labor": "20"},
        "pendant": _simple_part("3.4", "60", 7),
        "engraving": _engraving(),
        "size": {"values": [16, 18, 20]},
    },
}
RING: dict[str, Any] = {
    "vendor_model": "RRG106", "partner_id": "WJ-106", "title": "Birthstone Ring", "description": "1-3 stones ring",
    "jewelry_type": 8, "product_type": 1, "gender": 1, "status": 2, "markup": "2.2",
    "options": {"ring": _simple_part("4.2", "75", 3), "engraving": _engraving(), "size": {"min": 3, "max": 13}},
}
EARRINGS: dict[str, Any] = {
    "vendor_model": "REA011", "partner_id": "WJ-011", "title": "Fashion Earrings", "description": "1-3 stones earrings",
    "jewelry_type": 4, "product_type": 1, "gender": 1, "status": 2, "markup": "2.2",
    "options": {"earring": {**_simple_part("2.6", "55", 3), "length": [12, 16]}, "engraving": _engraving()},
}
BRACELET: dict[str, Any] = {
    "vendor_model": "RBR020", "partner_id": "WJ-020", "title": "Birthstone Bracelet",
    "description": "1-3 stones link bracelet", "jewelry_type": 5, "product_type": 1, "gender": 1, "status": 2,
    "markup": "2.2",
    "options": {"bracelet": {**_simple_part("6.8", "90", 3), "length": [15, 16, 17, 18]}, "engraving": _engraving()},
}
_BRIDAL_METALS = [_metal("f", "YWR"), _metal("q", "YWR"), _metal("p", "W")]
BRIDAL: dict[str, Any] = {
    "vendor_model": "RCR21", "partner_id": "WJ-CR21", "title": "Simplicity Petite Trio Engagement Ring",
    "description": "Halo engagement ring with a choice of center stone", "jewelry_type": 8, "product_type": 2,
    "gender": 1, "status": 2, "markup": "1.9",
    "options": {
        "head": {
            "types": {"HS4": {"sku": "HS4", "title": "Cushion Halo", "metal_weight_g": "1.6", "labor": "120"},
                      "HS1": {"sku": "HS1", "title": "Four Prong", "metal_weight_g": "0.9", "labor": "80"}},
            "center_stone": {"DI": {"sku": "DI", "title": "Diamond", "material_sku": "dmnd", "count": 1,
                                    "stone_shape": ["RD", "OV", "CU", "PR"], "stone_weight": ["E", "F", "H", "J", "K"],
                                    "stone_color": ["W"], "stone_clarity": ["VS2", "SI1", "SI2"]}},
            "additional_stones": {
                "DI": {"sku": "DI", "title": "Diamond halo", "material_sku": "dmnd", "count": 22, "stone_shape": "rd",
                       "weight_stone": "a", "quality": "SI2", "stone_color": ["W"]},
                "SA": {"sku": "SA", "title": "Blue sapphire halo", "material_sku": "sphr", "count": 18,
                       "stone_shape": "rd", "weight_stone": "a", "quality": "AAA", "stone_color": ["U"]}},
            "metal": _BRIDAL_METALS, "metal_weight_g": "1.2", "labor": "0",
        },
        "shank": {
            "types": {"HS4": {"sku": "HS4", "title": "Trio shank", "metal_weight_g": "3.2"},
                      "HR1": {"sku": "HR1", "title": "Bead shank", "metal_weight_g": "2.8"}},
            "side_settings": {
                "PS": {"sku": "PS", "title": "Pavé sides", "material_sku": "dmnd", "stone_shape": "rd",
                       "weight_stone": "b", "quality": "SI2",
                       "length": {"SL1": {"sku": "SL1", "title": "Half", "count": 10},
                                  "SL2": {"sku": "SL2", "title": "Three quarters", "count": 16},
                                  "SL3": {"sku": "SL3", "title": "Eternity", "count": 24}},
                       "stone": {"NO": {"sku": "NO", "title": "No stones", "material_sku": "no"},
                                 "DMND": {"sku": "DMND", "title": "Diamond", "material_sku": "dmnd"},
                                 "SPHR": {"sku": "SPHR", "title": "Sapphire", "material_sku": "sphr",
                                          "quality": "AAA"}},
                       "stone_color": ["U", "W", "B"]}},
            "carving": {"CA0": {"sku": "CA0", "title": "No carving", "length": {"CL1": {"sku": "CL1"}}},
                        "CA1": {"sku": "CA1", "title": "Milgrain", "price": "85",
                                "length": {"CL1": {"sku": "CL1"}, "CL2": {"sku": "CL2", "price": "40"}}}},
            "metal": _BRIDAL_METALS, "labor": "95",
        },
        "band": {"required": False, "metal": _BRIDAL_METALS, "metal_weight_g": "2.5", "labor": "40",
                 "stones_max": 9, "stone": [{"sku": "dmnd", "title": "Diamond", "stone_shape": "rd",
                                             "weight_stone": "c", "quality": "SI2"}]},
        "engraving": _engraving(15),
        "size": {"min": 3, "max": 13},
    },
}
JETBUILT_STYLE: dict[str, Any] = {
    "vendor_model": "ACME-123", "part_number": "ACME-123A", "title": "Ring sizer set", "manufacturer": "ACME",
    "description": "Plastic ring sizer set, US 1-15", "msrp": "123.00", "mapp": "45.00", "currency": "USD",
}
PRODUCTS = (PENDANT, RING, EARRINGS, BRACELET, BRIDAL, JETBUILT_STYLE)

# The seed's five configuration examples, as JSON (WJ prints engraving as ``["e0": {...}]``, which is not JSON).
_ENGRAVE = {"e0": {"font": "satisfy", "text": "ABC"}, "e1": {"font": "satisfy", "text": "ABC"}}
_STONES = [{"sku": "sss", "shape": "rd", "weight": "k", "position": 2},
           {"sku": "dst", "shape": "rd", "weight": "k", "position": 3},
           {"sku": "fsa", "shape": "rd", "weight": "k", "position": 1}]
EXAMPLES: dict[str, tuple[str, dict[str, Any]]] = {
    "pendant": ("RPD104", {"chain": {"type": "C1", "metal": {"sku": "f", "color": "R"}, "length": 16},
                           "pendant": {"stones": 3, "stone": _STONES, "metal": {"sku": "f", "color": "Y"}},
                           "engraving": _ENGRAVE}),
    "ring": ("RRG106", {"ring": {"stones": 3, "stone": _STONES, "metal": {"sku": "f", "color": "Y"}},
                        "engraving": _ENGRAVE}),
    "bridal": ("RCR21", {
        "head": {"type": "HS4", "center_stone": {"sku": "DI", "stone_shape": "RD", "stone_weight": "F",
                                                 "stone_color": "W", "stone_clarity": "SI2"},
                 "additional_stones": {"sku": "DI", "stone_color": "W"}, "metal": {"sku": "F", "color": "Y"}},
        "shank": {"type": "HS4", "side_settings": {"sku": "PS", "length": "SL1", "stone": "NO", "stone_color": "U"},
                  "carving": {"sku": "CA0", "length": "CL1"}, "metal": {"sku": "F", "color": "Y"}},
        "engraving": _ENGRAVE}),
    "earring": ("REA011", {"earring": {"stones": 3, "stone": _STONES, "metal": {"sku": "f", "color": "Y"},
                                       "length": 16}, "engraving": _ENGRAVE}),
    "bracelet": ("RBR020", {"bracelet": {"stones": 3, "stone": _STONES, "metal": {"sku": "f", "color": "Y"},
                                         "length": 16}, "engraving": _ENGRAVE}),
}


def seed(session: Session, *, organization_id: str, console: Console) -> dict[str, Any]:
    for row in metal_rows():
        service.put_metal_price(session, organization_id=organization_id, material_sku=row["material_sku"],
                                material_title=row["material_title"], cost_per_gram=Decimal(row["cost_per_gram"]),
                                currency="USD", density_g_cm3=Decimal(row["density_g_cm3"]),
                                purity=Decimal(row["purity"]), actor="demo")
    for row in stone_rows():
        service.put_stone_price(session, organization_id=organization_id, material_sku=row["material_sku"],
                                material_title=row["material_title"], stone_shape=row["stone_shape"],
                                weight_stone=row["weight_stone"], quality=row["quality"],
                                weight_from=Decimal(row["weight_from"]), weight_to=Decimal(row["weight_to"]),
                                cost=Decimal(row["cost"]), currency="USD", actor="demo")
    products = [service.create_product(session, organization_id=organization_id, fields=_fields(body), actor="demo")
                for body in PRODUCTS]
    tier = service.create_pricing_tier(session, organization_id=organization_id, name="Trade", actor="demo")
    service.upsert_tier_price(session, organization_id=organization_id, tier_id=tier.id,
                              product_ref=JETBUILT_STYLE["vendor_model"], amount=Decimal("99.00"), actor="demo")
    console.print(f"catalog: {len(METALS)} metals, {len(stone_rows())} stone prices, {len(products)} products")
    return {"products": len(products), "metals": len(METALS), "stone_prices": len(stone_rows()),
            "pricing_tiers": 1}


def _fields(body: dict[str, Any]) -> dict[str, Any]:
    """An API body as service fields (amounts as Decimal)."""
    fields = dict(body)
    for key in ("msrp", "mapp", "markup"):
        if key in fields:
            fields[key] = Decimal(str(fields[key]))
    return fields
