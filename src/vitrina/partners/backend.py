"""The domain services the WJ adapter translates onto, imported when a request needs them.

Importing lazily keeps ``vitrina.partners.api`` importable (and ``/partners/1.0/user/login`` working) in a
deployment, or a development tree, where the catalog or orders domain is absent; a route that needs an absent
domain answers WJ's "Server Side Exception" with HTTP 503 instead of the whole adapter disappearing.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from vitrina.partners.codec import WJError

CATALOG = "vitrina.catalog.service"
ORDERS = "vitrina.orders.service"
SALES = "vitrina.sales.service"


def catalog() -> ModuleType:
    return _load(CATALOG, "catalog")


def orders() -> ModuleType:
    return _load(ORDERS, "orders")


def sales() -> ModuleType:
    return _load(SALES, "sales")


def _load(module: str, what: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise WJError(40, http_status=503, message=f"The {what} service is not available.") from exc
