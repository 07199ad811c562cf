"""Reading HTML form values: blank means "not given", numbers are parsed with errors naming the field, and
a service's validation errors are mapped back onto the form fields that caused them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import pydantic

from vitrina.core.errors import ValidationFailed, VitrinaError, json_path
from vitrina.core.time import as_utc

Model = TypeVar("Model", bound=pydantic.BaseModel)


def parse_with(model: type[Model], data: dict[str, Any]) -> Model:
    """Validate form values with the API's own request schema, so a page accepts exactly what the API does; errors
    carry the same JSON paths (``$.sun.uid``)."""
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        raise ValidationFailed([{"path": json_path(error["loc"]), "message": error["msg"]}
                                for error in exc.errors()]) from None


def text(value: str | None) -> str | None:
    """A trimmed value, or None when the field was left blank."""
    if value is None:
        return None
    value = value.strip()
    return value or None


def integer(value: str | None, field: str, *, required: bool = True) -> int | None:
    raw = text(value)
    if raw is None:
        if required:
            raise ValidationFailed.field(f"$.{field}", "is required")
        return None
    try:
        return int(raw)
    except ValueError:
        raise ValidationFailed.field(f"$.{field}", "must be a whole number") from None


def decimal(value: str | None, field: str) -> Decimal | None:
    raw = text(value)
    if raw is None:
        return None
    try:
        amount = Decimal(raw.replace(",", ""))
    except InvalidOperation:
        raise ValidationFailed.field(f"$.{field}", "must be an amount such as 1250.00") from None
    if not amount.is_finite():
        raise ValidationFailed.field(f"$.{field}", "must be an amount such as 1250.00")
    return amount


def instant(value: str | None, field: str) -> datetime | None:
    """A ``datetime-local`` value, read as UTC (the pages say so next to the field)."""
    raw = text(value)
    if raw is None:
        return None
    try:
        return as_utc(datetime.fromisoformat(raw))
    except ValueError:
        raise ValidationFailed.field(f"$.{field}", "must be a date and time") from None


def field_errors(error: VitrinaError) -> dict[str, str]:
    """``{"quantity_change": "must be ..."}`` from a 422's JSON paths (``$.quantity_change``, ``$.lines[0].x``);
    anything else goes under ``"_form"``."""
    errors: dict[str, str] = {}
    if isinstance(error, ValidationFailed):
        for entry in error.errors:
            path = str(entry.get("path", "$"))
            name = path.removeprefix("$.").split(".")[0].split("[")[0] if path.startswith("$.") else "_form"
            errors.setdefault(name or "_form", str(entry.get("message", "is invalid")))
    if not errors:
        errors["_form"] = error.message
    return errors


def form_dict(values: dict[str, Any]) -> dict[str, Any]:
    """The values to put back into a re-rendered form (never passwords)."""
    return {k: v for k, v in values.items() if k not in ("csrf_token", "password")}
