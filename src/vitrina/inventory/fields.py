"""Validation of item fields for every entry point (routes, imports, other domains), and the uniqueness rules.

Routes already validated their bodies with the same Pydantic models; service callers that pass plain dicts
(imports, the demo seeder, other domains) get the same rules and 422 paths from here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from vitrina.accounts.models import Organization
from vitrina.catalog import service as catalog
from vitrina.core.errors import NotFoundError, ValidationFailed, json_path
from vitrina.core.ids import has_prefix
from vitrina.inventory.errors import CertificateTaken, ExternalIdTaken
from vitrina.inventory.models import SERIALIZED, Item, Location
from vitrina.inventory.schemas import ItemCreate, ItemUpdate

# Columns a create may set; everything else about an item is computed.
CREATE_FIELDS = frozenset(ItemCreate.model_fields)
# Columns an update may set (quantity and place change only through the ledger).
DESCRIPTIVE_FIELDS = frozenset({
    "external_id", "sku", "name", "category", "description", "low_stock_threshold", "price", "cost", "currency",
    "supplier_id", "certification", "cert_number", "product_id", "configuration_id", "attributes", "status",
})


def validated(model: type[BaseModel], data: dict[str, Any], *, path: str = "$",
              with_defaults: bool = True) -> dict[str, Any]:
    """``data`` checked by ``model``: the fields sent (and, with ``with_defaults``, the defaults that are set);
    its errors become one 422 with JSON paths under ``path``."""
    try:
        parsed = model.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed([
            {"path": path + json_path(tuple(err["loc"]))[1:], "message": err["msg"], "type": err["type"]}
            for err in exc.errors()
        ]) from None
    names = set(parsed.model_fields_set)
    if with_defaults:
        names |= {name for name in type(parsed).model_fields if getattr(parsed, name) is not None}
    return {name: getattr(parsed, name) for name in names}


def create_fields(data: dict[str, Any], *, path: str = "$") -> dict[str, Any]:
    fields = validated(ItemCreate, data, path=path)
    if fields.get("tracking") == SERIALIZED and fields.get("quantity", 1) > 1:
        raise ValidationFailed.field(f"{path}.quantity", "a serialized item's quantity is 0 or 1")
    return fields


def update_fields(data: dict[str, Any], *, path: str = "$") -> dict[str, Any]:
    return validated(ItemUpdate, data, path=path, with_defaults=False)


def default_currency(session: Session, organization_id: str) -> str:
    currency = session.scalar(select(Organization.default_currency).where(Organization.id == organization_id))
    return currency or "USD"


def ensure_locations(session: Session, *, organization_id: str, ids: Iterable[str | None],
                     path_of: dict[str, str]) -> None:
    """Every id names a live location of the organization (422 at the field's path otherwise)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return
    found = set(session.scalars(select(Location.id).where(
        Location.organization_id == organization_id, Location.id.in_(wanted), Location.deleted_at.is_(None))))
    missing = sorted(wanted - found)
    if missing:
        raise ValidationFailed([{"path": path_of.get(i, "$.location_id"), "message": "no such location",
                                 "value": i} for i in missing])


def ensure_product(session: Session, *, organization_id: str, product_id: str | None, path: str) -> None:
    """A catalog id (``prd_…``) must name a product of this organization. Other values are a supplier's or
    POS's own product reference (a vendor model), kept as given so feeds can link pieces before the catalog
    knows them."""
    if product_id is None or not has_prefix(product_id, "prd"):
        return
    try:
        catalog.get_product(session, organization_id=organization_id, product_id=product_id)
    except NotFoundError:
        raise ValidationFailed.field(path, "no such product") from None


def ensure_external_ids_free(session: Session, *, organization_id: str, external_ids: Iterable[str | None],
                             exclude_item: str | None = None) -> None:
    wanted = {e for e in external_ids if e is not None}
    if not wanted:
        return
    query = select(Item.external_id).where(Item.organization_id == organization_id, Item.external_id.in_(wanted))
    if exclude_item is not None:
        query = query.where(Item.id != exclude_item)
    taken = session.scalars(query.limit(1)).first()
    if taken is not None:
        raise ExternalIdTaken(details={"external_id": taken})


def ensure_certificates_free(session: Session, *, organization_id: str, pieces: Iterable[tuple[str, str]],
                             exclude_item: str | None = None) -> None:
    """No other serialized item has the same (sku, cert_number)."""
    wanted = set(pieces)
    if not wanted:
        return
    query = select(Item.sku, Item.cert_number).where(
        Item.organization_id == organization_id, Item.tracking == SERIALIZED,
        tuple_(Item.sku, Item.cert_number).in_(sorted(wanted)))
    if exclude_item is not None:
        query = query.where(Item.id != exclude_item)
    taken = session.execute(query.limit(1)).first()
    if taken is not None:
        raise CertificateTaken(details={"sku": taken.sku, "cert_number": taken.cert_number})
