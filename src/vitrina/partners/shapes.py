"""Vitrina's resources in WJ Partners' response shapes (seed 001): unix-time timestamps, WJ's field names,
numeric codes, prices as JSON numbers. Pure functions over the domain's objects; no database access except
what the caller passes in (the currency directory, the organization's name)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from vitrina.core.money import quantize
from vitrina.core.time import unix_seconds

# Pricing inputs kept on a product's options (costs a vendor keeps to itself): never shown to a WJ client.
PRIVATE_OPTION_KEYS = frozenset({"metal_weight_g", "reference_metal", "labor", "price", "cost", "markup"})


# Directory fields the catalog gives as exact decimal strings; WJ's directories have JSON numbers there.
NUMERIC_FIELDS = frozenset({"rate", "cost", "cost_per_gram", "density_g_cm3", "purity", "weight_from", "weight_to"})


def unix(value: datetime | None) -> int | None:
    return unix_seconds(value) if value is not None else None


def money(amount: Decimal | None, currency: str) -> Decimal | None:
    """An amount rounded at the currency's exponent; the codec writes it as a JSON number, as WJ did."""
    return quantize(Decimal(amount), currency) if amount is not None else None


def directory(entries: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """A catalog directory as WJ lists it: amounts as numbers, times as unix seconds."""
    return [{key: _directory_value(key, value) for key, value in entry.items()} for entry in entries]


def _directory_value(key: str, value: Any) -> Any:
    if key in NUMERIC_FIELDS and isinstance(value, str):
        try:
            return Decimal(value)
        except ArithmeticError:
            return value
    if key.endswith("_at") and isinstance(value, str):
        try:
            return unix(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            return value
    return value


def public_options(options: Any) -> Any:
    """A product's options as a shop may show them: the structure WJ documents, without pricing inputs."""
    if isinstance(options, Mapping):
        return {key: public_options(value) for key, value in options.items() if key not in PRIVATE_OPTION_KEYS}
    if isinstance(options, list):
        return [public_options(value) for value in options]
    return options


def product(row: Any) -> dict[str, Any]:
    """One product as WJ's ``products`` list shows it. Type codes are strings there (``"jewelryType": "7"``);
    the bridal example spells it ``jewelry_type``, so both names are given."""
    currency = str(getattr(row, "currency", None) or "USD")
    jewelry_type = "" if row.jewelry_type is None else str(row.jewelry_type)
    retail_start = money(getattr(row, "retail_start", None), currency)
    return {
        "id": row.id,
        "vendor_model": row.vendor_model,
        "partner_id": row.partner_id or "",
        "part_number": getattr(row, "part_number", None) or "",
        "title": row.title,
        "description": row.description or "",
        "jewelryType": jewelry_type,
        "jewelry_type": jewelry_type,
        "product_type": str(row.product_type),
        "plp_image": getattr(row, "image_url", None) or "",
        "created_at": unix(row.created_at),
        "updated_at": unix(row.updated_at),
        "status": row.status,
        "discontinued": int(bool(getattr(row, "discontinued", False))),
        "retail_start": retail_start,
        # WJ's price range: the catalog computes the cheapest valid configuration only, so the top is unknown.
        "min_price": retail_start,
        "max_price": None,
        "currency": currency,
        "gender": row.gender,
        "options": public_options(row.options or {}),
    }


def configuration(result: Any, *, vendor_model: str) -> dict[str, Any]:
    """A priced configuration: WJ's ``vendor_model``, ``ci`` and ``retail`` (plus ``price``, the WebSocket's name
    for the same number), with the title, description, breakdown and layers the catalog gives."""
    currency = str(result.currency)
    retail = money(Decimal(result.retail), currency)
    shaped: dict[str, Any] = {
        "vendor_model": getattr(result, "vendor_model", None) or vendor_model,
        "ci": result.ci, "retail": retail, "price": retail, "currency": currency,
        "title": getattr(result, "title", None) or "", "description": getattr(result, "description", None) or "",
    }
    for name in ("breakdown", "layers"):
        value = getattr(result, name, None)
        if value is not None:
            shaped[name] = _plain(value)
    return shaped


def address(value: Any) -> str:
    """WJ's addresses are one line of text; a structured Vitrina address is joined into one."""
    if value is None:
        return ""
    if isinstance(value, Mapping):
        return ", ".join(str(part) for part in value.values() if part not in (None, ""))
    return str(value)


def customer_ref(customer: Any, customer_id: str | None) -> int | str:
    """The customer as the WJ client knows it: the id it sent (kept as the customer's ``external_id``; WJ's
    ids are integers, so a number is given as one), else Vitrina's ``cus_`` id."""
    external = getattr(customer, "external_id", None)
    if external:
        return int(external) if external.isdecimal() and len(external) < 16 else external
    return customer_id or ""


def order_summary(order: Any, *, currency_id: int | str, pos_id: str, customer: int | str) -> dict[str, Any]:
    """An order as WJ's order list and status update show it; ``customer`` from ``customer_ref``."""
    return {
        "id": order.id, "external_order_id": order.external_order_id or "", "type": order.order_type,
        "status": order.status, "purpose": order.order_purpose,
        "shipping_address": address(order.shipping_address), "comment": order.comment or "",
        "message": order.message or "", "billing_address": address(order.billing_address),
        "payment_status": order.payment_status, "currency_id": currency_id,
        "customer_id": customer, "pos_id": pos_id,
        "tracking_number": order.tracking_number or "", "order_date": unix(order.order_date),
        "created_at": unix(order.created_at), "updated_at": unix(order.updated_at),
    }


def order_detail(order: Any, *, currency_id: int | str, pos_name: str, customer: int | str) -> dict[str, Any]:
    """An order as WJ's single-order read and create show it. ``items`` is one object, as WJ shows it, when
    the order has one item, and a list when it has several."""
    items = [order_item(item, currency_id=currency_id) for item in order.items]
    return {
        "pos_name": pos_name, "order_type": order.order_type, "order_status": order.status,
        "order_purpose": order.order_purpose, "order_id": order.id,
        "external_order_id": order.external_order_id or "",
        "shipping_address": address(order.shipping_address), "comment": order.comment or "",
        "message": order.message or "", "billing_address": address(order.billing_address),
        "payment_status": order.payment_status, "transaction_id": order.transaction_id or "",
        "currency": currency_id, "currency_code": order.currency, "pay_method": order.pay_method,
        "customer": {"id": customer, "email": order.customer_email or "",
                     "phone": order.customer_phone or "", "name": order.customer_name or ""},
        "items": items[0] if len(items) == 1 else items,
        "total": money(order.total, order.currency),
        "tracking_number": order.tracking_number or "", "order_date": unix(order.order_date),
        "created_at": unix(order.created_at), "updated_at": unix(order.updated_at),
    }


def order_item(item: Any, *, currency_id: int | str) -> dict[str, Any]:
    """``cost`` is the price of one piece and ``amount`` the line's total (``cost`` * ``qty``)."""
    return {
        "id": item.id, "qty": item.qty, "configuration_id": item.configuration_id,
        "vendor_model": item.vendor_model, "size": item.size, "cost": money(item.unit_price, item.currency),
        "amount": money(item.amount, item.currency), "currency": currency_id,
        "stones": stones(item.configuration),
    }


def stones(configuration: Any) -> list[Any]:
    """Every stone chosen in a configuration, part by part (WJ lists them on the order item)."""
    if not isinstance(configuration, Mapping):
        return []
    found: list[Any] = []
    for part in configuration.values():
        if isinstance(part, Mapping) and isinstance(part.get("stone"), Sequence) and not isinstance(
                part.get("stone"), str):
            found.extend(part["stone"])
    return found


def _plain(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="python")
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
