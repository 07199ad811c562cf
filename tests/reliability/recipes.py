"""Valid request bodies for the few create routes whose rules a JSON Schema cannot express.

The synthesiser (``apimodel.Synthesizer``) builds a schema-valid body for every route, and for most routes that is
a valid request. A handful refuse any synthesised body for a business reason: an order must name a product the
catalog can price (its ``configuration`` is free-form in the schema), a sale must name a piece that is still
available. Without a recipe those collections stay empty and every suite that walks them (tenancy, scopes, races)
has nothing to walk. A recipe prepares what the request needs through the API itself and returns the body;
``None`` means "fall back to the synthesised body". Recipes only use ``client.request`` (see ``population.Client``).
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tests.orders.catalog_setup import FULL_ORDER_DATA, METAL_SKU, STONES, _options

if TYPE_CHECKING:
    from tests.reliability.apimodel import ApiDoc
    from tests.reliability.population import Client, Tenant

Recipe = Callable[["Client", "ApiDoc", "Tenant"], "dict[str, Any] | None"]

ORDER_MODEL = "RPD104"


def _send(client: Client, tenant: Tenant, method: str, url: str, body: dict[str, Any]) -> Any:
    response = client.request(method, url, json=body, headers=tenant.headers)
    return response.json() if response.status_code < 300 else None


def priced_product(client: Client, tenant: Tenant) -> None:
    """The seed's RPD104 pendant and the metal and stone prices it needs (409 when it already exists: fine)."""
    _send(client, tenant, "PUT", f"/api/v1/prices/metals/{METAL_SKU}", {
        "material_title": "14K Gold", "cost_per_gram": "60.00", "currency": "USD", "density_g_cm3": "13.07",
        "purity": "0.585"})
    for sku in STONES:
        _send(client, tenant, "PUT", "/api/v1/prices/stones", {
            "material_sku": sku, "stone_shape": "rd", "weight_stone": "k", "quality": "AAA", "cost": "80.00",
            "currency": "USD"})
    _send(client, tenant, "POST", "/api/v1/products", {
        "vendor_model": ORDER_MODEL, "title": f"Three-stone pendant {tenant.marker}", "product_type": 2,
        "currency": "USD", "options": _options()})


def configuration(tenant: Tenant) -> dict[str, Any]:
    """WJ's example configuration, engraved with text of this organization's own: a configuration id (``ci``) is
    derived from the configuration, and two organizations must not hold the same one (else organization A asking
    for B's ``ci`` would rightly get its own, and the tenancy walk could not tell)."""
    chosen = copy.deepcopy(FULL_ORDER_DATA["items"]["configuration"])
    chosen["engraving"]["e0"]["text"] = hashlib.sha256(tenant.marker.encode()).hexdigest()[:10].upper()
    return dict(chosen)


def order_body(client: Client, doc: ApiDoc, tenant: Tenant) -> dict[str, Any] | None:
    """WJ's "Full Order Data" example in status 1 (new), for a product this organization's catalog prices."""
    priced_product(client, tenant)
    body = copy.deepcopy(FULL_ORDER_DATA)
    body["items"]["configuration"] = configuration(tenant)
    return body | {"order_status": 1, "customer_name": f"Customer {tenant.marker}",
                   "shipping_address": f"{tenant.marker} street, City"}


def available_piece(client: Client, doc: ApiDoc, tenant: Tenant) -> dict[str, Any] | None:
    """A new serialized piece of ``tenant`` (quantity 1, nothing reserved), or None when it cannot be made."""
    operation = doc.find("POST", "/api/v1/inventory")
    if operation is None:
        return None
    body = tenant.synthesizer(doc).body(operation, optional_ids=True) | {"tracking": "serialized", "quantity": 1}
    created = _send(client, tenant, "POST", "/api/v1/inventory", body)
    return dict(created["data"]) if created else None


def sale_body(client: Client, doc: ApiDoc, tenant: Tenant) -> dict[str, Any] | None:
    """A card sale of a fresh piece (the synthesised body names the first item, which may be reserved)."""
    piece = available_piece(client, doc, tenant)
    if piece is None:
        return None
    return {"type": "sale", "location_id": piece["location_id"], "currency": piece.get("currency") or "USD",
            "payment_method": "card", "reference": f"sale {tenant.marker}",
            "lines": [{"inventory_id": piece["id"], "quantity": 1}]}


def configuration_body(client: Client, doc: ApiDoc, tenant: Tenant) -> dict[str, Any] | None:
    """The order recipe's pendant, priced (and stored under its ``ci``) without ordering it."""
    priced_product(client, tenant)
    return {"items": {"qty": 1, "vendor_model": ORDER_MODEL, "configuration": configuration(tenant)}}


RECIPES: dict[str, Recipe] = {
    "POST /api/v1/orders": order_body,
    "POST /api/v1/transactions": sale_body,
}
# Routes answering 200 that nonetheless store something addressable (a priced configuration is kept under its
# ``ci``): the synthesiser cannot price anything, and without one the walkers have no ``{ci}`` to try.
STORING_ROUTES: dict[str, Recipe] = {
    "POST /api/v1/product-configurations": configuration_body,
}


def recipe_body(client: Client, doc: ApiDoc, tenant: Tenant, label: str) -> dict[str, Any] | None:
    recipe = RECIPES.get(label)
    return recipe(client, doc, tenant) if recipe else None
