"""Which domains are installed: the pages show a section only when its domain's service can be imported and
offers the functions the section calls.

Domains are built independently (and sometimes at the same time), so a section must never break the back
office because its domain is absent or not finished: it is left out, and ``/app/...`` links into it answer with
a clear "not available" page (see ``vitrina.web.pages``).
"""

from __future__ import annotations

import importlib
from functools import cache
from types import ModuleType


def is_missing_domain(exc: ImportError) -> bool:
    """True when ``exc`` says another Vitrina domain (or a name in it) does not exist yet, not that an existing
    module is broken. ``from vitrina.catalog import service`` reports a missing submodule as a plain
    ImportError naming the package, so both forms count. The web package's own modules never count: a missing
    ``vitrina.web.*`` module is a bug here, not an absent domain."""
    name = exc.name or ""
    return (name.startswith("vitrina.") and not name.startswith("vitrina.web")
            and (isinstance(exc, ModuleNotFoundError) or "cannot import name" in str(exc)))


def require(domain: str, *names: str) -> ModuleType:
    """``vitrina.<domain>.service``, checked to offer every function in ``names``.

    A service that is present but does not (yet) offer a function a section calls is treated like an absent
    domain (an ImportError that ``is_missing_domain`` accepts), so the section stays out instead of failing
    with a 500 on the first click."""
    module = importlib.import_module(f"vitrina.{domain}.service")
    missing = [name for name in names if not callable(getattr(module, name, None))]
    if missing:
        raise ImportError(f"cannot import name {missing[0]!r} from {module.__name__!r}", name=module.__name__)
    return module


@cache
def optional_service(domain: str, *names: str) -> ModuleType | None:
    """``vitrina.<domain>.service`` if the domain (and the domains it imports) is installed and offers
    ``names``; else None."""
    try:
        return require(domain, *names)
    except ImportError as exc:
        if not is_missing_domain(exc):
            raise
        return None
