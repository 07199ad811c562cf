"""WJ's fixed directories (``/directories/{name}``), with the seed's fields and ids.

``stoneLock`` and ``metalLock`` are the organization's price tables and are read from the database by the service.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

PRODUCT_GENDER = [{"id": 0, "title": "Empty"}, {"id": 1, "title": "Woman"}, {"id": 2, "title": "Man"},
                  {"id": 3, "title": "Another"}]
PRODUCT_STATUS = [{"id": 0, "title": "New"}, {"id": 1, "title": "Created"}, {"id": 2, "title": "Finalized"},
                  {"id": 9, "title": "Disabled"}, {"id": 10, "title": "Deleted"}]
PRODUCT_TYPE = [{"id": 1, "title": "Simple", "description": "Simple", "status": 1},
                {"id": 2, "title": "Customizable", "description": "Customizable", "status": 1}]
JEWELRY_TYPE = [{"id": 8, "title": "Ring", "description": "Ring", "status": 1},
                {"id": 7, "title": "Necklace", "description": "Necklace", "status": 1},
                {"id": 5, "title": "Bracelet", "description": "Bracelet", "status": 1},
                {"id": 4, "title": "Earrings", "description": "Earrings", "status": 1}]
# ``rate``: the value of one unit in U.S. dollars (WJ's convention: EUR 1.14).
CURRENCY: list[dict[str, Any]] = [
    {"id": 1, "code": "USD", "sign": "$", "number": 840, "exponent": 2, "currency": "U.S. dollar", "rate": "1",
     "default": 1},
    {"id": 2, "code": "EUR", "sign": "€", "number": 978, "exponent": 2, "currency": "European Currency Unit",
     "rate": "1.14", "default": 0},
    {"id": 3, "code": "GBP", "sign": "£", "number": 826, "exponent": 2, "currency": "Pound sterling", "rate": "1.27",
     "default": 0},
    {"id": 4, "code": "CNY", "sign": "元 / ¥", "number": 156, "exponent": 2, "currency": "Renminbi", "rate": "0.14",
     "default": 0},
    {"id": 5, "code": "JPY", "sign": "¥", "number": 392, "exponent": 0, "currency": "Japanese yen", "rate": "0.0067",
     "default": 0},
]
RATES = {entry["code"]: Decimal(entry["rate"]) for entry in CURRENCY}
# Stone weight classes (sku → carats), WJ's letters: e = 1/4 ct, f = 1/3, h = 1/2, j = 3/4, k = 1, n = 1 1/2, p = 2.
_WEIGHTS = (("a", "0.01"), ("b", "0.02"), ("c", "0.05"), ("d", "0.10"), ("e", "0.25"), ("f", "0.33"),
            ("g", "0.375"), ("h", "0.50"), ("i", "0.625"), ("j", "0.75"), ("k", "1.00"), ("l", "1.25"),
            ("n", "1.50"), ("o", "1.75"), ("p", "2.00"))
STONE_WEIGHT = [{"sku": sku, "title": float(carats), "description": f"{carats} ct", "status": 1}
                for sku, carats in _WEIGHTS]
STATIC: dict[str, list[dict[str, Any]]] = {
    "productGender": PRODUCT_GENDER, "productStatus": PRODUCT_STATUS, "productType": PRODUCT_TYPE,
    "jewelryType": JEWELRY_TYPE, "currency": CURRENCY, "stoneWeight": STONE_WEIGHT,
}
NAMES = ("productGender", "productStatus", "currency", "stoneWeight", "stoneLock", "metalLock", "productType",
         "jewelryType")


def currency_code(number: int) -> str | None:
    """A currency directory id (WJ orders send ``"currency": 1``) or ISO 4217 number → its ISO code."""
    for entry in CURRENCY:
        if entry["id"] == number:
            return str(entry["code"])
    for entry in CURRENCY:
        if entry["number"] == number:
            return str(entry["code"])
    return None
