"""The catalog, which prices every order item, loaded when a request needs it.

Importing lazily keeps ``vitrina.orders`` importable (the lifecycle, reads and status changes of existing orders
keep working) in a build, or a development tree, without the catalog domain; creating an order then answers 503.
An import error *inside* a present catalog module is a real bug and propagates.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from vitrina.core.errors import ServiceUnavailable

CATALOG = "vitrina.catalog.service"


def catalog() -> ModuleType:
    try:
        return importlib.import_module(CATALOG)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (exc.name == CATALOG or CATALOG.startswith(exc.name + ".")):
            raise ServiceUnavailable("The catalog, which prices order items, is not available.") from exc
        raise
