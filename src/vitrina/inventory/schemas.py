"""JSON shapes of the inventory API (the only place that knows JSON names).

Request bodies accept the names the seeds used as well as ours (``product_name``/``unit_price`` from the
location/room API, camelCase variants); responses are plain dicts built by ``item_dict`` and friends (also
used as event payloads) and described for OpenAPI by the ``...Out`` models beside them.
"""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from typing import Annotated, Any, Literal
from zoneinfo import available_timezones

from pydantic import AliasChoices, BaseModel, BeforeValidator, Field, field_validator
from pydantic.json_schema import SkipJsonSchema

from vitrina.core.money import to_str
from vitrina.core.schemas import Currency, Money, RequestModel
from vitrina.core.time import as_utc, to_rfc3339
from vitrina.inventory.models import ACTIVE, RESERVED, Item, Location, Movement, Reservation

_TIMEZONES = frozenset(available_timezones()) | {"UTC"}
MAX_BULK_LINES = 1000


def _check_timezone(value: str | None) -> str | None:
    if value is not None and value not in _TIMEZONES:
        raise ValueError("must be an IANA time zone such as 'America/New_York'")
    return value


Address = dict[str, Any] | str


class LocationCreate(RequestModel):
    name: str = Field(min_length=1, max_length=200)
    code: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9._\-]+$")
    address: Address | None = None
    timezone: str = Field(default="UTC", validation_alias=AliasChoices("timezone", "timeZone"))

    _tz = field_validator("timezone")(_check_timezone)


class LocationUpdate(RequestModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    code: str | None = Field(default=None, min_length=1, max_length=40, pattern=r"^[A-Za-z0-9._\-]+$")
    address: Address | None = None
    timezone: str | None = Field(default=None, validation_alias=AliasChoices("timezone", "timeZone"))

    _tz = field_validator("timezone")(_check_timezone)


class LocationOut(BaseModel):
    id: str
    name: str
    code: str
    address: dict[str, Any] | None
    timezone: str
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, location: Location) -> LocationOut:
        return cls(id=location.id, name=location.name, code=location.code, address=location.address,
                   timezone=location.timezone, created_at=location.created_at, updated_at=location.updated_at,
                   version=location.version)


def address_value(address: Address | None) -> dict[str, Any] | None:
    """An address as stored: structured; a one-line string is kept under ``line1``."""
    if address is None or isinstance(address, dict):
        return address
    return {"line1": address}


# --- input types ----------------------------------------------------------------------------------------------

def _upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


def _certification(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return "none" if value.lower() in ("none", "") else value.upper()
    return value


Tracking = Literal["serialized", "bulk"]
RoomType = Literal["sales_floor", "vault", "quarantine", "secret_menu", "repair", "memo", "in_transit"]
ReasonCode = Annotated[Literal["SALE", "RETURN", "ADJUSTMENT", "DAMAGE", "THEFT", "TRANSFER", "AUDIT", "RECEIVED"],
                       BeforeValidator(_upper)]
Certification = Annotated[Literal["GIA", "IGI", "AGS", "HRD", "EGL", "none"], BeforeValidator(_certification)]
Quantity = Annotated[int, Field(ge=0, le=1_000_000_000)]
Text100 = Annotated[str, Field(min_length=1, max_length=100)]


def _names(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class _ItemFields(RequestModel):
    """Descriptive fields shared by create and update."""

    external_id: Text100 | None = Field(default=None, validation_alias=_names("external_id", "externalId"),
                                        description="Your own reference (e.g. a POS id); unique per organization.")
    sku: Text100 | None = None
    name: str | None = Field(default=None, min_length=1, max_length=300,
                             validation_alias=_names("name", "product_name", "productName"))
    category: str | None = Field(default=None, max_length=100)
    description: str | None = Field(default=None, max_length=10_000)
    low_stock_threshold: Quantity | None = Field(
        default=None, validation_alias=_names("low_stock_threshold", "lowStockThreshold"),
        description="inventory.low_stock fires when the available quantity crosses to this or below.")
    price: Money | None = Field(default=None, validation_alias=_names("price", "unit_price", "unitPrice"),
                                description="Retail price (string or number).")
    cost: Money | None = Field(default=None, validation_alias=_names("cost", "unit_cost", "unitCost"))
    currency: Currency | None = Field(default=None, description="ISO 4217; the organization's by default.")
    supplier_id: Text100 | None = Field(default=None, validation_alias=_names("supplier_id", "supplierId"))
    certification: Certification | None = None
    cert_number: Text100 | None = Field(default=None, validation_alias=_names("cert_number", "certNumber",
                                                                              "certificate_number"))
    product_id: Text100 | None = Field(default=None, validation_alias=_names("product_id", "productId"))
    configuration_id: str | None = Field(default=None, max_length=200,
                                         validation_alias=_names("configuration_id", "configurationId"))
    attributes: dict[str, Any] | None = Field(
        default=None, description="metal, karat, weight_g, stones, ... (free-form JSON object)")


class ItemCreate(_ItemFields):
    sku: Text100
    name: str = Field(min_length=1, max_length=300, validation_alias=_names("name", "product_name", "productName"))
    tracking: Tracking = "serialized"
    status: Literal["active", "repair", "memo"] = "active"
    quantity: Quantity = 1
    location_id: str | None = Field(default=None, max_length=32, validation_alias=_names("location_id", "locationId"))
    room_type: RoomType = Field(default="sales_floor", validation_alias=_names("room_type", "roomType"))

    def fields(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class ItemUpdate(_ItemFields):
    status: Literal["active", "repair", "memo", "archived"] | None = None
    # Refused with a pointer to the right endpoint (not silently ignored, not a bare "extra field").
    quantity: SkipJsonSchema[Any] = None
    reserved_quantity: SkipJsonSchema[Any] = None
    available_quantity: SkipJsonSchema[Any] = None
    location_id: SkipJsonSchema[Any] = Field(default=None, validation_alias=_names("location_id", "locationId"))
    room_type: SkipJsonSchema[Any] = Field(default=None, validation_alias=_names("room_type", "roomType"))
    tracking: SkipJsonSchema[Any] = None


class Adjustment(RequestModel):
    quantity_change: int = Field(validation_alias=_names("quantity_change", "quantityChange"),
                                 description="A non-zero whole number.", ge=-1_000_000_000, le=1_000_000_000)
    reason_code: ReasonCode = Field(validation_alias=_names("reason_code", "reasonCode"))
    notes: str | None = Field(default=None, max_length=2000)
    reference: str | None = Field(default=None, max_length=255)
    expected_quantity: Quantity | None = Field(
        default=None, validation_alias=_names("expected_quantity", "expectedQuantity"),
        description="Compare-and-set: refused with 409 QUANTITY_CHANGED unless the quantity is this.")

    @field_validator("quantity_change")
    @classmethod
    def _non_zero(cls, value: int) -> int:
        if value == 0:
            raise ValueError("must not be zero")
        return value


class BulkLine(Adjustment):
    id: str = Field(min_length=1, max_length=100, description="Item id or external_id.")


class BulkUpdate(RequestModel):
    updates: list[BulkLine] = Field(min_length=1, max_length=MAX_BULK_LINES)


class TransferIn(RequestModel):
    to_location_id: str | None = Field(default=None, max_length=32,
                                       validation_alias=_names("to_location_id", "toLocationId", "location_id"),
                                       description="Default: the item's current location.")
    to_room_type: RoomType | None = Field(default=None, validation_alias=_names("to_room_type", "toRoomType",
                                                                                "room_type"),
                                          description="Default: the item's current room.")
    quantity: int = Field(default=1, ge=1, le=1_000_000_000)
    notes: str | None = Field(default=None, max_length=2000)
    reference: str | None = Field(default=None, max_length=255)


class ReserveIn(RequestModel):
    quantity: int = Field(default=1, ge=1, le=1_000_000_000)
    reference: str | None = Field(default=None, max_length=255)
    expires_at: datetime | None = Field(default=None, validation_alias=_names("expires_at", "expiresAt"),
                                        description="RFC 3339; the hold releases itself then. Default: none.")

    @field_validator("expires_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return None if value is None else as_utc(value)


# --- output -----------------------------------------------------------------------------------------------

def derived_status(item: Item | SimpleNamespace, reserved: int) -> str:
    """``reserved`` is shown, never stored: an active item whose every unit is held."""
    if item.status == ACTIVE and reserved > 0 and item.quantity - reserved <= 0:
        return RESERVED
    return item.status


def item_dict(item: Item | SimpleNamespace, reserved: int | None = None) -> dict[str, Any]:
    """The item as the API and its events show it; ``reserved`` is the count of holds that still apply.
    ``item`` may also be a namespace of its column values (batch inserts build no ORM objects)."""
    held = item.reserved_quantity if reserved is None else reserved
    available = max(item.quantity - held, 0)
    currency = item.currency
    price, cost = to_str(item.price, currency), to_str(item.cost, currency)
    threshold = item.low_stock_threshold
    return {
        "id": item.id, "external_id": item.external_id, "sku": item.sku, "name": item.name,
        "category": item.category, "description": item.description, "tracking": item.tracking,
        "status": derived_status(item, held), "quantity": item.quantity, "reserved_quantity": held,
        "available_quantity": available, "low_stock_threshold": threshold,
        "low_stock": threshold is not None and available <= threshold,
        "location_id": item.location_id, "room_type": item.room_type, "price": price, "cost": cost,
        "currency": currency, "supplier_id": item.supplier_id, "certification": item.certification,
        "cert_number": item.cert_number, "product_id": item.product_id, "configuration_id": item.configuration_id,
        "attributes": item.attributes or {}, "created_at": to_rfc3339(item.created_at),
        "updated_at": to_rfc3339(item.updated_at), "version": item.version,
        "product_name": item.name, "unit_price": price, "unit_cost": cost,
    }


class ItemOut(BaseModel):
    id: str = Field(description="itm_ id")
    external_id: str | None
    sku: str
    name: str
    category: str | None
    description: str | None
    tracking: Tracking
    status: Literal["active", "reserved", "sold", "repair", "memo", "archived"]
    quantity: int
    reserved_quantity: int = Field(description="Units held by unexpired reservations.")
    available_quantity: int
    low_stock_threshold: int | None
    low_stock: bool = Field(description="available_quantity <= low_stock_threshold")
    location_id: str | None
    room_type: RoomType
    price: str | None = Field(description="Decimal string at the currency's exponent.")
    cost: str | None
    currency: str
    supplier_id: str | None
    certification: str | None
    cert_number: str | None
    product_id: str | None
    configuration_id: str | None
    attributes: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    version: int = Field(description="Also the ETag.")
    product_name: str = Field(description="Same as name (location/room API compatibility).")
    unit_price: str | None = Field(description="Same as price (location/room API compatibility).")
    unit_cost: str | None = Field(description="Same as cost (location/room API compatibility).")


def movement_dict(movement: Movement | SimpleNamespace) -> dict[str, Any]:
    return {
        "id": movement.id, "item_id": movement.item_id, "quantity_change": movement.quantity_change,
        "quantity_after": movement.quantity_after, "reason_code": movement.reason_code, "notes": movement.notes,
        "reference": movement.reference, "actor": movement.actor, "location_id": movement.location_id,
        "room_type": movement.room_type, "created_at": to_rfc3339(movement.created_at),
    }


class MovementOut(BaseModel):
    id: str = Field(description="mov_ id")
    item_id: str
    quantity_change: int
    quantity_after: int
    reason_code: str
    notes: str | None
    reference: str | None
    actor: str | None = Field(description="The API key (or user) that made the change.")
    location_id: str | None = Field(description="Where the item was after this movement.")
    room_type: str
    created_at: datetime


class AdjustmentOut(BaseModel):
    item: ItemOut
    movement: MovementOut


class BulkUpdateOut(BaseModel):
    count: int
    results: list[AdjustmentOut]


class TransferOut(BaseModel):
    source: ItemOut = Field(description="The item the units left (for a serialized piece: the piece, moved).")
    target: ItemOut = Field(description="The item the units arrived in.")
    movements: list[MovementOut] = Field(description="The two TRANSFER movements: out, then in.")


def reservation_dict(reservation: Reservation, *, at: datetime) -> dict[str, Any]:
    if reservation.released_at is not None:
        state = reservation.release_reason or "released"
    elif reservation.expires_at is not None and reservation.expires_at <= at:
        state = "expired"
    else:
        state = "active"
    return {
        "id": reservation.id, "item_id": reservation.item_id, "quantity": reservation.quantity,
        "reference": reservation.reference, "status": state, "expires_at": to_rfc3339(reservation.expires_at),
        "created_at": to_rfc3339(reservation.created_at), "released_at": to_rfc3339(reservation.released_at),
    }


class ReservationOut(BaseModel):
    id: str = Field(description="rsv_ id")
    item_id: str
    quantity: int
    reference: str | None
    status: Literal["active", "released", "expired", "consumed"]
    expires_at: datetime | None
    created_at: datetime
    released_at: datetime | None
    item: ItemOut | None = None


class SnapshotRow(BaseModel):
    id: str
    external_id: str | None
    sku: str
    name: str
    category: str | None
    tracking: Tracking
    location_id: str | None = Field(description="Where the item was at that instant.")
    room_type: str
    quantity: int = Field(description="The quantity at that instant (from the ledger).")
    price: str | None
    cost: str | None
    currency: str


class CurrencyTotals(BaseModel):
    currency: str
    count: int
    units: int
    cost_value: str
    retail_value: str


class SnapshotTotals(BaseModel):
    count: int = Field(description="Items held (quantity > 0) at that instant.")
    units: int
    cost_value: dict[str, str] = Field(description="sum of quantity * cost, per currency.")
    retail_value: dict[str, str] = Field(description="sum of quantity * price, per currency.")
    by_currency: list[CurrencyTotals]


class SnapshotOut(BaseModel):
    success: Literal[True] = True
    at: datetime
    data: list[SnapshotRow]
    totals: SnapshotTotals
    pagination: dict[str, int]
