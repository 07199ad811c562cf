"""The neighbouring domains a sale may use, loaded when a request needs them.

Pricing tiers live in the catalog, ownership in provenance, and made-to-order orders (which copy a customer's
personal fields) in orders. All are optional for selling: a build (or a development tree) without them still
records sales at item prices. So they are imported lazily here, and an
*absent* domain gives the documented fallback, while an import error *inside* a present module is a real bug
and propagates (the same rule as ``vitrina.core.modules``).
"""

from __future__ import annotations

import importlib
from decimal import Decimal
from types import ModuleType
from typing import Any

from sqlalchemy.orm import Session

from vitrina.core.errors import NotFoundError, ValidationFailed

CATALOG = "vitrina.catalog.service"
PROVENANCE = "vitrina.provenance.service"
ORDERS = "vitrina.orders.service"


def optional_module(name: str) -> ModuleType | None:
    """The module, or None when it (or a parent package) is not part of this build."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (name == exc.name or name.startswith(exc.name + ".")):
            return None
        raise


def ensure_tier(session: Session, *, organization_id: str, tier_id: str, path: str = "$.tier_id") -> None:
    """The tier exists in this organization (404 from the catalog otherwise, naming ``path``)."""
    catalog = optional_module(CATALOG)
    if catalog is None:
        # Without a catalog no tier can exist; say so at the field rather than failing the whole request.
        raise ValidationFailed.field(path, "pricing tiers are not available in this deployment")
    try:
        catalog.get_pricing_tier(session, organization_id=organization_id, tier_id=tier_id)
    except Exception as exc:
        details = getattr(exc, "details", None)
        if isinstance(details, dict):
            details.setdefault("path", path)
        raise


def tier_price(session: Session, *, organization_id: str, tier_id: str, product_id: str) -> Decimal | None:
    """The tier's price of the product, or None (no price in the tier, or no catalog at all)."""
    catalog = optional_module(CATALOG)
    if catalog is None:
        return None
    # An item names its product by id, vendor_model or partner_id (whatever the feed that created it knew);
    # the catalog resolves all three. An item whose product is not in the catalog simply has no tier price.
    try:
        product = catalog.get_product(session, organization_id=organization_id, product_id=product_id)
    except NotFoundError:
        return None
    price: Any = catalog.tier_price(session, organization_id=organization_id, tier_id=tier_id,
                                    product_id=product.id)
    return None if price is None else Decimal(price)


def record_sale(session: Session, *, organization_id: str, inventory_id: str, customer_id: str,
                customer_name: str, transaction_id: str) -> None:
    """Pass ownership of a sold piece's passport to the customer; nothing to do without provenance."""
    provenance = optional_module(PROVENANCE)
    if provenance is None:
        return
    provenance.record_sale(session, organization_id=organization_id, inventory_id=inventory_id,
                           customer_id=customer_id, customer_name=customer_name, transaction_id=transaction_id)


def has_orders(session: Session, *, organization_id: str, customer_id: str) -> bool:
    """Whether made-to-order orders name the customer (False in a build without orders)."""
    orders = optional_module(ORDERS)
    return orders is not None and bool(orders.has_orders(session, organization_id=organization_id,
                                                         customer_id=customer_id))


def erase_customer_from_orders(session: Session, *, organization_id: str, customer_id: str) -> None:
    """Erase the personal fields that orders copied from the customer (nothing to do without orders)."""
    orders = optional_module(ORDERS)
    if orders is not None:
        orders.erase_customer(session, organization_id=organization_id, customer_id=customer_id)
