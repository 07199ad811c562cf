"""Loading the domain modules that are present in this build.

Domains plug into the app, the CLI and the worker by naming a module (``vitrina.catalog.api``). A domain that is
not part of the build is skipped; an import error *inside* a present module is a real bug and propagates.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from types import ModuleType


def _is_absent(module_name: str, missing: str | None) -> bool:
    """True when ``missing`` is ``module_name`` itself or one of its parent packages."""
    return missing is not None and (module_name == missing or module_name.startswith(missing + "."))


def import_present(names: Iterable[str]) -> list[ModuleType]:
    modules = []
    for name in names:
        try:
            modules.append(importlib.import_module(name))
        except ModuleNotFoundError as exc:
            if not _is_absent(name, exc.name):
                raise
    return modules
