"""Inventory routes. Thin: parse, call one service function, shape the response."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Query, Request, Response
from starlette.convertors import Convertor, register_url_convertor

from vitrina.core import metrics
from vitrina.core.auth import ReadPrincipal, WritePrincipal
from vitrina.core.concurrency import check_if_match
from vitrina.core.errors import ValidationFailed
from vitrina.core.pagination import PageQuery
from vitrina.core.responses import Envelope, ListEnvelope, created, no_content, ok, paginated
from vitrina.core.routing import api_router
from vitrina.core.time import as_utc, end_of_day, to_rfc3339, utcnow
from vitrina.db.session import DbSession
from vitrina.inventory import service
from vitrina.inventory.models import REASON_CODES, Item, Reservation
from vitrina.inventory.schemas import (
    Adjustment,
    AdjustmentOut,
    BulkUpdate,
    BulkUpdateOut,
    ItemCreate,
    ItemOut,
    ItemUpdate,
    LocationCreate,
    LocationOut,
    LocationUpdate,
    MovementOut,
    ReasonCode,
    ReservationOut,
    ReserveIn,
    RoomType,
    SnapshotOut,
    TransferIn,
    TransferOut,
    address_value,
    item_dict,
    movement_dict,
    reservation_dict,
)
from vitrina.inventory.snapshot import line_dict, totals_dict


class _ItemRef(Convertor[str]):
    """An item id or external_id, but not a word of the collection's own sub-resources: the jobs domain
    mounts ``GET /inventory/export`` after this router, and ``/inventory/{id}`` must not swallow it."""

    regex = r"(?!(?:export|import|sync|snapshot|bulk-update)(?:/|$))[^/]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("item_ref", _ItemRef())


def startup(app: FastAPI) -> None:
    """Publish the ledger's size on /metrics."""
    database = app.state.db

    def ledger_rows() -> float:
        with database.unit_of_work(write=False) as session:
            return float(service.ledger_size(session))

    metrics.register_gauge("vitrina_inventory_movements", "Movements in the inventory ledger", ledger_rows)


ITEM = "/inventory/{item_id:item_ref}"
_PRINTABLE = r"^[^\x00]*$"  # a NUL cannot be stored or compared in PostgreSQL text: refuse it as bad input

router = api_router(tags=["inventory"])
LOCATIONS: list[str | Enum] = ["locations"]


# --- locations ------------------------------------------------------------------------------------------------

@router.get("/locations", tags=LOCATIONS, response_model=ListEnvelope[LocationOut], summary="List locations")
def list_locations(request: Request, session: DbSession, principal: ReadPrincipal, page: PageQuery) -> Response:
    found, total = service.list_locations(session, organization_id=principal.organization_id, page=page)
    return paginated(request, [LocationOut.of(loc) for loc in found], total, page)


@router.post("/locations", tags=LOCATIONS, status_code=201, response_model=Envelope[LocationOut],
             summary="Create a location")
def create_location(body: LocationCreate, session: DbSession, principal: WritePrincipal) -> Response:
    location = service.create_location(
        session, organization_id=principal.organization_id, name=body.name, code=body.code,
        address=address_value(body.address), timezone=body.timezone,
    )
    return created(LocationOut.of(location), etag=location.version)


@router.get("/locations/{location_id}", tags=LOCATIONS, response_model=Envelope[LocationOut], summary="Get a location")
def get_location(location_id: str, session: DbSession, principal: ReadPrincipal) -> Response:
    location = service.get_location(session, organization_id=principal.organization_id, location_id=location_id)
    return ok(LocationOut.of(location), etag=location.version)


@router.put("/locations/{location_id}", tags=LOCATIONS, response_model=Envelope[LocationOut],
            summary="Update a location",
            description="Honours `If-Match` with the location's ETag (412 when it changed).")
def update_location(location_id: str, body: LocationUpdate, request: Request, session: DbSession,
                    principal: WritePrincipal) -> Response:
    current = service.get_location(session, organization_id=principal.organization_id, location_id=location_id)
    check_if_match(request, current.version)
    changes = body.model_dump(exclude_unset=True)
    if "address" in changes:
        changes["address"] = address_value(body.address)
    location = service.update_location(session, organization_id=principal.organization_id,
                                       location_id=location_id, changes=changes)
    return ok(LocationOut.of(location), etag=location.version)


@router.delete("/locations/{location_id}", tags=LOCATIONS, status_code=204, summary="Delete a location",
                  description="409 `LOCATION_HOLDS_STOCK` while any item there has a quantity.")
def delete_location(location_id: str, request: Request, session: DbSession,
                    principal: WritePrincipal) -> Response:
    current = service.get_location(session, organization_id=principal.organization_id, location_id=location_id)
    check_if_match(request, current.version)
    service.delete_location(session, organization_id=principal.organization_id, location_id=location_id)
    return no_content()


# --- items ----------------------------------------------------------------------------------------------------

def _shown(session: DbSession, item: Item) -> dict[str, Any]:
    return item_dict(item, service.reserved_now(session, [item]).get(item.id))


def _with_etag(session: DbSession, item: Item, status_code: int = 200) -> Response:
    return ok(_shown(session, item), status_code=status_code, etag=item.version)


@router.post("/inventory", status_code=201, response_model=Envelope[ItemOut], summary="Create an item",
             description="Defaults: `tracking=serialized`, `quantity=1`, `room_type=sales_floor`, the organization's "
                         "currency. The initial quantity is a `RECEIVED` movement. 409 `EXTERNAL_ID_TAKEN` or "
                         "`CERTIFICATE_TAKEN` for a duplicate.")
def create_item(body: ItemCreate, session: DbSession, principal: WritePrincipal) -> Response:
    item = service.create_item(session, organization_id=principal.organization_id, actor=principal.actor,
                               fields=body.fields())
    return _with_etag(session, item, status_code=201)


Sort = Literal["created_at", "-created_at", "price", "-price", "sku", "-sku", "updated_at", "-updated_at"]
Status = Literal["active", "reserved", "sold", "repair", "memo", "archived"]


@router.get("/inventory", response_model=ListEnvelope[ItemOut], summary="List items",
            description="Archived items only with `status=archived`. `q` searches sku, name, description and "
                        "cert_number. `low_stock=true`: available quantity at or below the item's threshold.")
def list_items(
    request: Request, session: DbSession, principal: ReadPrincipal, page: PageQuery,
    category: Annotated[str | None, Query(max_length=100, pattern=_PRINTABLE)] = None,
    status: Status | None = None,
    location_id: Annotated[str | None, Query(max_length=32, pattern=_PRINTABLE)] = None,
    room_type: RoomType | None = None,
    low_stock: bool | None = None,
    sku: Annotated[str | None, Query(max_length=100, pattern=_PRINTABLE)] = None,
    q: Annotated[str | None, Query(max_length=200, pattern=_PRINTABLE)] = None,
    product_id: Annotated[str | None, Query(max_length=100, pattern=_PRINTABLE)] = None,
    tracking: Literal["serialized", "bulk"] | None = None,
    updated_since: datetime | None = None,
    sort: Sort = "created_at",
) -> Response:
    filters = service.ItemFilters(
        category=category, status=status, location_id=location_id, room_type=room_type, low_stock=low_stock,
        sku=sku, q=q, product_id=product_id, tracking=tracking,
        updated_since=as_utc(updated_since) if updated_since else None, sort=sort)
    items, total = service.list_items(session, organization_id=principal.organization_id, filters=filters,
                                      page=page)
    held = service.reserved_now(session, items)
    return paginated(request, [item_dict(item, held.get(item.id)) for item in items], total, page)


@router.get("/inventory/snapshot", response_model=SnapshotOut, summary="Stock at a past instant",
            description="`date=YYYY-MM-DD` (the end of that UTC day) or `at=<RFC 3339>`; now when neither. Every "
                        "item held then, where it was then, from the ledger; `totals` per currency.")
def snapshot(
    request: Request, session: DbSession, principal: ReadPrincipal, page: PageQuery,
    date_: Annotated[date | None, Query(alias="date", description="End of this UTC day.")] = None,
    at: Annotated[datetime | None, Query(description="An RFC 3339 instant.")] = None,
    location_id: Annotated[str | None, Query(max_length=32, pattern=_PRINTABLE)] = None,
    room_type: RoomType | None = None,
    include_zero: Annotated[bool, Query(description="Also items that held 0 then.")] = False,
) -> Response:
    instant = _snapshot_instant(date_, at)
    if location_id is not None:
        service.get_location_any(session, organization_id=principal.organization_id, location_id=location_id)
    result = service.take_snapshot(session, organization_id=principal.organization_id, at=instant, page=page,
                                   location_id=location_id, room_type=room_type, include_zero=include_zero)
    return paginated(request, [line_dict(line) for line in result.lines], result.total, page,
                     extra={"at": to_rfc3339(instant), "totals": totals_dict(result)})


def _snapshot_instant(day: date | None, at: datetime | None) -> datetime:
    now = utcnow()
    if day is not None and at is not None:
        raise ValidationFailed.field("$.at", "send either date or at, not both")
    if day is not None:
        if day > now.date():
            raise ValidationFailed.field("$.date", "must not be in the future")
        return min(end_of_day(day), now)
    if at is not None:
        instant = as_utc(at)
        if instant > now:
            raise ValidationFailed.field("$.at", "must not be in the future")
        return instant
    return now


@router.post("/inventory/bulk-update", response_model=Envelope[BulkUpdateOut], summary="Adjust many items",
             description="Up to 1,000 lines, all or nothing: any bad line gets 422 (invalid) or 409 "
                         "`BULK_UPDATE_FAILED` (refused by the stock) with every failing line by index.")
def bulk_update(body: BulkUpdate, session: DbSession, principal: WritePrincipal) -> Response:
    lines = [service.AdjustmentLine(line.id, line.quantity_change, line.reason_code, line.notes, line.reference,
                                    line.expected_quantity) for line in body.updates]
    applied = service.bulk_adjust(session, organization_id=principal.organization_id, lines=lines,
                                  actor=principal.actor)
    results = [{"item": item_dict(item), "movement": movement_dict(movement)} for item, movement in applied]
    return ok({"count": len(results), "results": results})


@router.get(ITEM, response_model=Envelope[ItemOut], summary="Get an item (by id or external_id)")
def get_item(item_id: str, session: DbSession, principal: ReadPrincipal) -> Response:
    item = service.get_item(session, organization_id=principal.organization_id, ref=item_id)
    return _with_etag(session, item)


@router.put(ITEM, response_model=Envelope[ItemOut], summary="Update an item's description, prices or status",
            description="Never its quantity (422 `USE_ADJUSTMENT`) nor place (422 `USE_TRANSFER`). Status: "
                        "active, repair, memo or archived. Honours `If-Match` (412).")
def update_item(item_id: str, body: ItemUpdate, request: Request, session: DbSession,
                principal: WritePrincipal) -> Response:
    current = service.get_item(session, organization_id=principal.organization_id, ref=item_id, lock=True)
    check_if_match(request, current.version)
    item = service.update_item(session, organization_id=principal.organization_id, item_id=current.id,
                               changes=body.model_dump(exclude_unset=True), actor=principal.actor)
    return _with_etag(session, item)


@router.delete(ITEM, status_code=204, summary="Archive an item",
               description="Status `archived`; its history is kept. 409 `ITEM_RESERVED` while units are held.")
def archive_item(item_id: str, request: Request, session: DbSession, principal: WritePrincipal) -> Response:
    current = service.get_item(session, organization_id=principal.organization_id, ref=item_id, lock=True)
    check_if_match(request, current.version)
    service.archive_item(session, organization_id=principal.organization_id, item_id=current.id,
                         actor=principal.actor)
    return no_content()


@router.patch(ITEM, response_model=Envelope[AdjustmentOut], summary="Adjust an item's quantity",
              description=f"Reason codes: {', '.join(REASON_CODES)}. 409 `INSUFFICIENT_STOCK` below 0 or below the "
                          "reserved units, `QUANTITY_CHANGED` when `expected_quantity` differs, "
                          "`QUANTITY_OUT_OF_RANGE` when a serialized piece would leave 0..1. Honours `If-Match`.")
def adjust_item(item_id: str, body: Adjustment, request: Request, session: DbSession,
                principal: WritePrincipal) -> Response:
    if request.headers.get("if-match"):
        current = service.get_item(session, organization_id=principal.organization_id, ref=item_id, lock=True)
        check_if_match(request, current.version)
    item, movement = service.adjust_quantity(
        session, organization_id=principal.organization_id, item_id=item_id, quantity_change=body.quantity_change,
        reason_code=body.reason_code, actor=principal.actor, notes=body.notes, reference=body.reference,
        expected_quantity=body.expected_quantity)
    return ok({"item": _shown(session, item), "movement": movement_dict(movement)}, etag=item.version)


@router.post(f"{ITEM}/transfer", response_model=Envelope[TransferOut], summary="Move stock to a location/room",
             description="A serialized piece moves; bulk units split into (or merge with) the same SKU's item "
                         "there. Two `TRANSFER` movements in one transaction.")
def transfer_item(item_id: str, body: TransferIn, session: DbSession, principal: WritePrincipal) -> Response:
    moved = service.transfer_item(
        session, organization_id=principal.organization_id, item_id=item_id, to_location_id=body.to_location_id,
        to_room_type=body.to_room_type, quantity=body.quantity, actor=principal.actor, notes=body.notes,
        reference=body.reference)
    return ok({"source": _shown(session, moved.source), "target": _shown(session, moved.target),
               "movements": [movement_dict(m) for m in moved.movements]})


@router.post(f"{ITEM}/reserve", status_code=201, response_model=Envelope[ReservationOut],
             summary="Hold units of an item",
             description="409 `INSUFFICIENT_STOCK` when fewer units are available. With `expires_at` the hold "
                         "releases itself at that instant.")
def reserve_item(item_id: str, body: ReserveIn, session: DbSession, principal: WritePrincipal) -> Response:
    reservation = service.reserve_item(
        session, organization_id=principal.organization_id, item_id=item_id, quantity=body.quantity,
        reference=body.reference, expires_at=body.expires_at, actor=principal.actor)
    return created(_reservation(session, reservation, principal.organization_id))


@router.delete(f"{ITEM}/reserve/{{reservation_id}}", status_code=204, summary="Release a hold",
               description="Releasing a hold that is already released or expired changes nothing.")
def release_reservation(item_id: str, reservation_id: str, session: DbSession,
                        principal: WritePrincipal) -> Response:
    service.release_reservation(session, organization_id=principal.organization_id, item_id=item_id,
                                reservation_id=reservation_id, actor=principal.actor)
    return no_content()


def _reservation(session: DbSession, reservation: Reservation, organization_id: str) -> dict[str, Any]:
    item = service.get_item(session, organization_id=organization_id, ref=reservation.item_id)
    return reservation_dict(reservation, at=utcnow()) | {"item": _shown(session, item)}


@router.get(f"{ITEM}/movements", response_model=ListEnvelope[MovementOut], summary="An item's ledger",
            description="Newest first.")
def list_movements(request: Request, item_id: str, session: DbSession, principal: ReadPrincipal, page: PageQuery,
                   reason_code: ReasonCode | None = None) -> Response:
    found, total = service.list_movements(session, organization_id=principal.organization_id, item_id=item_id,
                                          page=page, reason_code=reason_code)
    return paginated(request, [movement_dict(m) for m in found], total, page)
