"""WJ Partners compatibility (``/partners/1.0``): an existing WJ client works by changing its base URL.

Translation only: every route calls the same service functions as ``/api/v1`` (catalog, orders), so business
rules, events and tenancy are the same; this module maps WJ's shapes, codes and base64 envelope onto them.
The domain services are imported when a request needs them (``backend``), so this module always imports.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from sqlalchemy.orm import Session

from vitrina.accounts import service as accounts
from vitrina.accounts.models import ApiKey, Organization
from vitrina.core import tokens
from vitrina.core.auth import Principal, authenticate, key_for_token
from vitrina.core.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    RateLimited,
    Unauthorized,
    ValidationFailed,
    VitrinaError,
)
from vitrina.core.pagination import MAX_LIMIT, Page
from vitrina.core.routing import UnitOfWorkRoute
from vitrina.db.session import DbSession
from vitrina.partners import backend, params, shapes
from vitrina.partners.codec import WJError, decode_request, encode, encode_error

MOUNT_PREFIX = ""
PREFIX = "/partners/1.0"


class PartnersRoute(UnitOfWorkRoute):
    """The unit of work of every route, plus WJ's error envelope instead of Vitrina's."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except WJError as error:
                return encode_error(error)
            except VitrinaError as error:
                response = encode_error(translate(error))
                response.headers.update(error.headers)  # e.g. Retry-After of a rate-limited request
                return response
            except RequestValidationError:
                return encode_error(WJError(1))

        return run


# Vitrina's stable error codes onto WJ's table (the closest entry; the Vitrina error rides along in ``data``).
BY_CODE: dict[str, int] = {
    "PRODUCT_NOT_FOUND": 72, "PRODUCT_UNAVAILABLE": 72, "CONFIGURATION_NOT_FOUND": 73, "ORDER_NOT_FOUND": 76,
    "CUSTOMER_NOT_FOUND": 78, "ORDER_EXISTS": 83, "INVALID_TRANSITION": 4, "DIRECTORY_NOT_FOUND": 1,
}


def translate(error: VitrinaError) -> WJError:
    """A Vitrina error as WJ reports it: HTTP 200, ``status: error``, WJ's code and message."""
    detail = {"code": error.code, "message": error.message, "details": error.details}
    if error.code in BY_CODE:
        return WJError(BY_CODE[error.code], data=detail)
    if isinstance(error, ValidationFailed):
        return WJError(90, data=detail)
    if isinstance(error, RateLimited):
        return WJError(40, http_status=429, message=error.message)
    if isinstance(error, Unauthorized):
        return WJError(2)
    if isinstance(error, ForbiddenError):
        return WJError(6, data=detail)
    if isinstance(error, NotFoundError):
        return WJError(81, data=detail)
    if isinstance(error, ConflictError):
        return WJError(4, data=detail)
    return WJError(1, data=detail)


def _find_key(request: Request, session: Session) -> ApiKey:
    """The key behind WJ's ``authkey`` header (a Vitrina token)."""
    token = request.headers.get("authkey", "").strip()
    if not token:
        raise WJError(3, http_status=401)
    try:
        return key_for_token(request, session, token)
    except Unauthorized:
        raise WJError(2) from None


def _language(language: Annotated[str | None, Header(
        description="WJ's desired response language (e.g. `en-EN`); accepted, content is English.")] = None,
              ) -> str | None:
    return language


def _authkey(authkey: Annotated[str | None, Header(
        description="The token from `user/login`. Missing: HTTP 401, error 3; wrong, expired or revoked: error 2."
        )] = None) -> str | None:
    # Declared for the OpenAPI document only; ``_find_key`` reads the header itself.
    return authkey


def partner(request: Request, session: DbSession, language: str | None = Depends(_language),
            authkey: str | None = Depends(_authkey)) -> Principal:
    """The caller, from the ``authkey`` header (a normal Vitrina token), with the API's scoping and limits.
    Without ``authkey``, Vitrina's own ``Authorization``/``X-API-Key`` headers are accepted too."""
    if request.headers.get("authkey") is None and (
            request.headers.get("authorization") or request.headers.get("x-api-key")):
        try:
            return authenticate(request, session)
        except Unauthorized:
            raise WJError(2) from None
    return authenticate(request, session, find_key=_find_key)


def partner_writer(principal: Principal = Depends(partner)) -> Principal:
    if not principal.can("write"):
        raise WJError(6)
    return principal


Reader = Annotated[Principal, Depends(partner)]
Writer = Annotated[Principal, Depends(partner_writer)]


async def _data(request: Request) -> dict[str, Any]:
    # async so the body is read on the event loop; the (sync) route then runs in the thread pool.
    return decode_request(await request.body())


RequestData = Annotated[dict[str, Any], Depends(_data)]
QueryText = Annotated[str | None, Query(max_length=40)]
DirectoryName = Annotated[str, Path(description="Directory name, e.g. `currency`.")]
ProductKey = Annotated[str, Path(description="A vendor_model or a partner_id.")]
OrderId = Annotated[str, Path(description="An `ord_` id or your external_order_id.")]

router = APIRouter(prefix=PREFIX, tags=["WJ Partners compatibility"], route_class=PartnersRoute)

_BASE64 = {"text/plain": {"schema": {"type": "string", "format": "base64"}}}
RESPONSE_DOC: dict[int | str, dict[str, Any]] = {
    200: {"description": "Base64 of `{status, error_code, error_message, data}`. WJ's internal errors "
                         "(e.g. 2 Incorrect token, 72 Product not found) also come as 200 with `status: error`.",
          "content": _BASE64},
    401: {"description": "No `authkey` header (WJ error 3), base64 envelope.", "content": _BASE64},
    429: {"description": "Rate limit exceeded (WJ error 40); see Retry-After.", "content": _BASE64},
    503: {"description": "A domain service is unavailable (WJ error 40).", "content": _BASE64},
}
CREATED_DOC: dict[int | str, dict[str, Any]] = {
    201: {"description": "Base64 of `{status: success, error_code: 0, data: {success: <order>}}`.",
          "content": _BASE64},
    **RESPONSE_DOC,
}
BODY_DOC: dict[str, Any] = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["data"],
    "properties": {"data": {
        "description": "Base64 of the JSON request object (WJ's form), or the object itself.",
        "oneOf": [{"type": "string", "format": "base64"}, {"type": "object"}]}},
}}}}}
AUTH_NOTE = ("Send the token from `user/login` in the `authkey` header (Vitrina's `Authorization: Bearer` and "
             "`X-API-Key` are accepted too). ")


# --- account ----------------------------------------------------------------------------------------------

@router.post("/user/login", summary="WJ login: api_key + secret_key → authkey", responses=RESPONSE_DOC,
             openapi_extra=BODY_DOC,
             description="`data`: `{\"api_key\", \"secret_key\"}` (an API credential's key and secret). "
                         "Returns `{\"authkey\"}`, a normal Vitrina access token. Errors: 93, 2.")
def login(data: RequestData, request: Request, session: DbSession,
          language: str | None = Depends(_language)) -> Response:
    api_key, secret = data.get("api_key"), data.get("secret_key")
    if not api_key or not secret:
        raise WJError(93)
    settings = request.app.state.settings
    try:
        key = accounts.authenticate_secret(session, api_key=str(api_key), api_secret=str(secret))
    except Unauthorized:
        raise WJError(2) from None
    token = tokens.issue(settings.signing_secret, key_id=key.id, organization_id=key.organization_id,
                         ttl_seconds=settings.token_ttl_seconds)
    return encode({"authkey": token})


# --- directories ------------------------------------------------------------------------------------------

@router.get("/dir/{name}", summary="WJ directory", responses=RESPONSE_DOC,
            description=AUTH_NOTE + "`productGender`, `productStatus`, `currency`, `stoneWeight`, `stoneLock`, "
                                    "`metalLock`, `productType`, `jewelryType` → `{\"list\": [...]}`.")
def directory(name: DirectoryName, principal: Reader, session: DbSession) -> Response:
    entries = backend.catalog().directory(session, organization_id=principal.organization_id, name=name)
    return encode({"list": shapes.directory(entries)})


# --- products ---------------------------------------------------------------------------------------------

@router.get("/product", summary="WJ product list", responses=RESPONSE_DOC,
            description=AUTH_NOTE + "`limit` (default 50, max 200: error 91 beyond), `offset` (error 92 beyond "
                                    "10,000,000), `jewelryType`, `productType` → `{\"products\", "
                                    "\"products_count\"}`.")
def products(principal: Reader, session: DbSession, limit: QueryText = None, offset: QueryText = None,
             jewelryType: QueryText = None, productType: QueryText = None) -> Response:
    page = params.page(limit, offset)
    rows, total = backend.catalog().list_products(
        session, organization_id=principal.organization_id, page=Page(limit=page.limit, offset=page.offset),
        jewelry_type=params.optional_int(jewelryType, "jewelryType"),
        product_type=params.optional_int(productType, "productType"))
    return encode({"products": [shapes.product(row) for row in rows], "products_count": total})


@router.get("/product/{key}", summary="WJ product by vendor model or partner id", responses=RESPONSE_DOC,
            description=AUTH_NOTE + "The product whose `vendor_model` (or `prd_` id) is `key` → `{\"products\": "
                                    "[it]}`; else every product whose `partner_id` is `key` (WJ's \"Get product "
                                    "list By Product ID in partner system\"), oldest first; none: error 72.")
def product(key: ProductKey, principal: Reader, session: DbSession) -> Response:
    # The catalog resolves a vendor_model (or id) first, then a partner_id (its first product when several share one).
    found = backend.catalog().get_product(session, organization_id=principal.organization_id, product_id=key)
    if key in (found.id, found.vendor_model) or key.lower() == found.vendor_model.lower():
        rows = [found]
    else:
        rows = _with_partner_id(session, principal.organization_id, key)
    return encode({"products": [shapes.product(row) for row in rows], "products_count": len(rows)})


def _with_partner_id(session: Session, organization_id: str, partner_id: str) -> list[Any]:
    """Every product of the organization with this ``partner_id``, through the catalog's own listing (which has
    no partner_id filter yet, so its pages are read in turn; a catalog is hundreds of products, not millions)."""
    catalog = backend.catalog()
    found: list[Any] = []
    offset, total = 0, 1
    while offset < total:
        rows, total = catalog.list_products(session, organization_id=organization_id,
                                            page=Page(limit=MAX_LIMIT, offset=offset))
        if not rows:
            break
        found.extend(row for row in rows if row.partner_id == partner_id)
        offset += len(rows)
    return found


# --- configurations ---------------------------------------------------------------------------------------

@router.post("/product-configurations", summary="WJ configuration price", responses=RESPONSE_DOC,
             openapi_extra=BODY_DOC,
             description=AUTH_NOTE + "`data`: `{\"items\": {\"qty\", \"vendor_model\", \"size\", \"configuration\" "
                                     "| \"configuration_id\"}}` (a list of items is accepted and answered with a "
                                     "list) → `{\"vendor_model\", \"ci\", \"retail\", ...}`. Errors: 93, 100, 102, "
                                     "72, 73, 90 (each bad choice with its JSON path in `data`); 6 without the "
                                     "`write` scope (a quote stores the configuration).")
def configurations(data: RequestData, principal: Writer, session: DbSession) -> Response:
    # A quote stores the configuration under its ci, so it needs the write scope, as on /api/v1.
    items = data.get("items", data if "vendor_model" in data else None)
    if not items:
        raise WJError(93, data={"missing": ["items"]})
    catalog = backend.catalog()
    # One load of the price tables for every item, as /api/v1 does.
    book = catalog.price_book(session, organization_id=principal.organization_id)
    if isinstance(items, list):
        return encode([_price(session, principal, item, f"$.items[{i}]", book) for i, item in enumerate(items)])
    return encode(_price(session, principal, items, "$.items", book))


def _price(session: Session, principal: Principal, item: Any, path: str, book: Any) -> dict[str, Any]:
    if not isinstance(item, Mapping):
        raise WJError(4, data={"path": path, "message": "must be an object"})
    catalog = backend.catalog()
    vendor_model, configuration = item.get("vendor_model"), item.get("configuration")
    if configuration is None:
        ci = item.get("configuration_id")
        if not ci:
            raise WJError(102, data={"path": f"{path}.configuration_id"})
        stored = catalog.get_configuration(session, organization_id=principal.organization_id, ci=str(ci))
        vendor_model, configuration = vendor_model or stored.vendor_model, stored.configuration
    if not vendor_model or not isinstance(vendor_model, str):
        raise WJError(100, data={"path": f"{path}.vendor_model"})
    result = catalog.price_configuration(
        session, organization_id=principal.organization_id, vendor_model=vendor_model, configuration=configuration,
        size=item.get("size"), qty=_qty(item.get("qty"), path), tier_id=principal.tier_id, book=book)
    return shapes.configuration(result, vendor_model=vendor_model)


def _qty(value: Any, path: str) -> int:
    if value is None:
        return 1
    text = str(value).strip() if isinstance(value, int | str) and not isinstance(value, bool) else ""
    if not text.isdecimal() or len(text) > 9:
        raise WJError(90, data={"path": f"{path}.qty", "message": "must be a whole number from 1 to 1000"})
    qty = int(text)
    if not 1 <= qty <= 1000:
        raise WJError(90, data={"path": f"{path}.qty", "message": "must be 1 to 1000"})
    return qty


# --- orders -----------------------------------------------------------------------------------------------

@router.get("/order", summary="WJ order list", responses=RESPONSE_DOC,
            description=AUTH_NOTE + "Newest first; `limit` (default 50, max 200: error 91 beyond), `offset` "
                                    "(error 92 beyond 10,000,000) → a list of orders.")
def orders(principal: Reader, session: DbSession, limit: QueryText = None, offset: QueryText = None) -> Response:
    page = params.page(limit, offset)
    rows, _total = backend.orders().list_orders(session, organization_id=principal.organization_id,
                                                limit=page.limit, offset=page.offset)
    currency_ids = _CurrencyIds(session, principal.organization_id)
    customers = _customer_refs(session, principal.organization_id, rows)
    return encode([shapes.order_summary(row, currency_id=currency_ids(row.currency), pos_id=principal.organization_id,
                                        customer=customers[row.id]) for row in rows])


@router.get("/order/{order_id}", summary="WJ order by id", responses=RESPONSE_DOC,
            description=AUTH_NOTE + "By Vitrina `ord_` id or your `external_order_id`; unknown: error 76.")
def order(order_id: OrderId, principal: Reader, session: DbSession) -> Response:
    found = backend.orders().get_order(session, organization_id=principal.organization_id, order_id=order_id)
    return encode(_detail(session, principal, found))


@router.post("/order", summary="WJ create order", status_code=201, responses=CREATED_DOC, openapi_extra=BODY_DOC,
             description=AUTH_NOTE + "WJ's \"Create Single Order, Customer, Order Product\" body (`items` an object "
                                     "or a list); each item is priced by the catalog. 201 with `{\"success\": "
                                     "<order>}`. Errors: 93, 100, 72, 78, 83, 90.")
def create_order(data: RequestData, principal: Writer, session: DbSession) -> Response:
    if not data.get("items"):
        raise WJError(93, data={"missing": ["items"]})
    items = data["items"] if isinstance(data["items"], list) else [data["items"]]
    for index, item in enumerate(items):
        if isinstance(item, Mapping) and not item.get("vendor_model") and not item.get("configuration_id"):
            raise WJError(100, data={"path": f"$.items[{index}].vendor_model"})
    created = backend.orders().create_order(session, organization_id=principal.organization_id,
                                            actor=principal.actor, data=data, tier_id=principal.tier_id)
    return encode({"success": _detail(session, principal, created)}, http_status=201)


@router.put("/order/{order_id}", summary="WJ update order status", responses=RESPONSE_DOC, openapi_extra=BODY_DOC,
            description=AUTH_NOTE + "`data`: `order_status` (or `status`), WJ's `production_status` and "
                                    "`delivery_status` (applied in ascending order, each one step of the legal "
                                    "path), `tracking_number`, `payment_status`, `comment`. Errors: 101, 76, 4 "
                                    "(illegal transition; `data.details.allowed`).")
def update_order(order_id: OrderId, data: RequestData, principal: Writer,
                 session: DbSession) -> Response:
    service = backend.orders()
    targets = _status_targets(data)
    fields: dict[str, Any] = {name: data[name] for name in ("tracking_number", "payment_status", "comment")
                              if name in data}
    if not targets and not fields:
        raise WJError(101)
    steps: list[dict[str, Any]] = [{"order_status": target} for target in targets] or [{}]
    steps[-1].update(fields)
    for changes in steps:
        updated = service.update_order(session, organization_id=principal.organization_id, order_id=order_id,
                                       actor=principal.actor, changes=changes)
    currency_ids = _CurrencyIds(session, principal.organization_id)
    customers = _customer_refs(session, principal.organization_id, [updated])
    return encode(shapes.order_summary(updated, currency_id=currency_ids(updated.currency),
                                       pos_id=principal.organization_id, customer=customers[updated.id]))


STATUS_FIELDS = ("order_status", "status", "production_status", "delivery_status")


def _status_targets(data: Mapping[str, Any]) -> list[int]:
    """The statuses a WJ update asks for, lowest first (the lifecycle moves one step at a time)."""
    targets: set[int] = set()
    for name in STATUS_FIELDS:
        value = data.get(name)
        if value is None or value == "":
            continue
        text = str(value).strip() if isinstance(value, int | str) and not isinstance(value, bool) else ""
        if not text.isdecimal() or len(text) > 1:
            raise WJError(90, data={"path": f"$.{name}", "message": "must be an order status from 0 to 9"})
        targets.add(int(text))
    # Canceling (0) is the one backward move; it only makes sense on its own, so it goes last.
    return sorted(targets - {0}) + ([0] if 0 in targets else [])


def _detail(session: Session, principal: Principal, found: Any) -> dict[str, Any]:
    organization = session.get(Organization, principal.organization_id)
    currency_ids = _CurrencyIds(session, principal.organization_id)
    customers = _customer_refs(session, principal.organization_id, [found])
    return shapes.order_detail(found, currency_id=currency_ids(found.currency),
                               pos_name=organization.name if organization else "", customer=customers[found.id])


def _customer_refs(session: Session, organization_id: str, orders: Sequence[Any]) -> dict[str, int | str]:
    """Each order's customer as the WJ client knows it (see ``shapes.customer_ref``), in one query."""
    ids = [order.customer_id for order in orders if order.customer_id]
    customers = backend.sales().customers_by_id(session, organization_id=organization_id, ids=ids)
    return {order.id: shapes.customer_ref(customers.get(order.customer_id or ""), order.customer_id)
            for order in orders}


class _CurrencyIds:
    """WJ identifies currencies by their ``currency`` directory id (``1`` is USD); an ISO code that the
    directory lacks is given as the code itself."""

    def __init__(self, session: Session, organization_id: str) -> None:
        self._session, self._organization_id = session, organization_id
        self._ids: dict[str, int | str] | None = None

    def __call__(self, code: str) -> int | str:
        if self._ids is None:
            entries = backend.catalog().directory(self._session, organization_id=self._organization_id,
                                                  name="currency")
            self._ids = {str(_field(e, "code")).upper(): _field(e, "id") for e in entries}
        return self._ids.get(code.upper(), code)


def _field(entry: Any, name: str) -> Any:
    return entry.get(name) if isinstance(entry, Mapping) else getattr(entry, name, None)
