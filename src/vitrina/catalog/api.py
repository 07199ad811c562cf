"""Catalog routes (API.md §4). Thin: parse, call one service function, shape the response."""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Annotated, Any, Literal

from fastapi import Depends, Path, Query, Request, Response, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from vitrina.accounts import service as accounts
from vitrina.catalog import images, service
from vitrina.catalog.errors import ImageRejected
from vitrina.catalog.schemas import (
    ConfigurationOut,
    ConfigurationRequest,
    DirectoryOut,
    MetalPriceIn,
    MetalPriceOut,
    ProductCreate,
    ProductOut,
    ProductUpdate,
    StonePriceIn,
    StonePriceOut,
    StoredConfigurationOut,
    TierCreate,
    TierOut,
    TierPriceIn,
    TierPriceOut,
    metal_dict,
    product_dict,
    stone_dict,
    tier_dict,
    tier_price_dict,
)
from vitrina.core.auth import AdminPrincipal, ReadPrincipal, WritePrincipal, key_for_token
from vitrina.core.concurrency import check_if_match
from vitrina.core.errors import NotFoundError, ValidationFailed, VitrinaError
from vitrina.core.pagination import PageQuery
from vitrina.core.responses import Envelope, ListEnvelope, created, no_content, ok, paginated
from vitrina.core.routing import api_router
from vitrina.core.time import to_rfc3339
from vitrina.db.session import DbSession

router = api_router(tags=["catalog"])
PRICES: list[Any] = ["prices"]
TIERS: list[Any] = ["pricing tiers"]
CONFIGS: list[Any] = ["configurations"]
_PRINTABLE = r"^[^\x00]*$"
_SKU = r"^[A-Za-z0-9._\-]{1,40}$"
DirectoryName = Literal["productGender", "productStatus", "currency", "stoneWeight", "stoneLock", "metalLock",
                        "productType", "jewelryType"]


# --- directories and price tables ----------------------------------------------------------------------------

@router.get("/directories/{name}", response_model=Envelope[DirectoryOut], summary="A WJ directory",
            description="`productGender`, `productStatus`, `currency` (code, sign, number, exponent, rate, default), "
                        "`stoneWeight`, `stoneLock` (the stone price table), `metalLock` (the metal price table), "
                        "`productType`, `jewelryType`: `{\"list\": [...]}` with the seed's fields.")
def get_directory(name: DirectoryName, session: DbSession, principal: ReadPrincipal) -> Response:
    return ok({"list": service.directory(session, organization_id=principal.organization_id, name=name)})


@router.put("/prices/metals/{material_sku}", tags=PRICES, response_model=Envelope[MetalPriceOut],
            responses={201: {"model": Envelope[MetalPriceOut], "description": "The metal was added"}},
            summary="Set a metal's price (admin)",
            description="Creates (201) or replaces (200) the metal's row: cost per gram, density (g/cm³) and purity. "
                        "Writes `price.updated`; new quotes use it at once, stored orders keep their price.")
def put_metal(material_sku: Annotated[str, Path(pattern=_SKU)], body: MetalPriceIn, session: DbSession,
              principal: AdminPrincipal) -> Response:
    metal, was_created = service.put_metal_price(
        session, organization_id=principal.organization_id, material_sku=material_sku,
        material_title=body.material_title, cost_per_gram=body.cost_per_gram, currency=body.currency,
        density_g_cm3=body.density_g_cm3, purity=body.purity, actor=principal.actor)
    return ok(metal_dict(metal), status_code=201 if was_created else 200)


@router.put("/prices/stones", tags=PRICES, response_model=Envelope[StonePriceOut],
            responses={201: {"model": Envelope[StonePriceOut], "description": "The row was added"}},
            summary="Set a stone price (admin)",
            description="Creates (201) or replaces (200) the row for (material_sku, stone_shape, weight_stone, "
                        "quality). Writes `price.updated`.")
def put_stone(body: StonePriceIn, session: DbSession, principal: AdminPrincipal) -> Response:
    stone, was_created = service.put_stone_price(
        session, organization_id=principal.organization_id, material_sku=body.material_sku,
        material_title=body.material_title, stone_shape=body.stone_shape, weight_stone=body.weight_stone,
        quality=body.quality, weight_from=body.weight_from, weight_to=body.weight_to, cost=body.cost,
        currency=body.currency, actor=principal.actor)
    return ok(stone_dict(stone), status_code=201 if was_created else 200)


# --- products ------------------------------------------------------------------------------------------------

@router.get("/products", response_model=ListEnvelope[ProductOut], summary="Search products",
            description="`query` matches vendor_model, part_number or title (case-insensitive substring). "
                        "Pages with `limit`/`offset` or Jetbuilt's `page`.")
def list_products(
    request: Request, session: DbSession, principal: ReadPrincipal, page: PageQuery,
    query: Annotated[str | None, Query(max_length=200, pattern=_PRINTABLE)] = None,
    jewelry_type: Annotated[int | None, Query(ge=0, le=1000)] = None,
    product_type: Annotated[int | None, Query(ge=1, le=2)] = None,
    status: Annotated[int | None, Query(ge=0, le=10)] = None,
    discontinued: bool | None = None,
) -> Response:
    found, total = service.list_products(session, organization_id=principal.organization_id, page=page, query=query,
                                         jewelry_type=jewelry_type, product_type=product_type, status=status,
                                         discontinued=discontinued)
    return paginated(request, [product_dict(p) for p in found], total, page)


@router.post("/products", status_code=201, response_model=Envelope[ProductOut], summary="Create a product",
             description="Also accepts Jetbuilt's names (`model`, `short_description`, `long_description`) and WJ's "
                         "(`jewelryType`, `plp_image`). 409 `VENDOR_MODEL_TAKEN`. `retail_start` is computed.")
def create_product(body: ProductCreate, session: DbSession, principal: WritePrincipal) -> Response:
    product = service.create_product(session, organization_id=principal.organization_id,
                                     fields=body.model_dump(exclude_unset=True), actor=principal.actor)
    return created(product_dict(product), etag=product.version)


@router.get("/products/{product_id}", response_model=Envelope[ProductOut], summary="Get a product",
            description="By id, `vendor_model` or `partner_id`.")
def get_product(product_id: str, session: DbSession, principal: ReadPrincipal) -> Response:
    product = service.get_product(session, organization_id=principal.organization_id, product_id=product_id)
    return ok(product_dict(product), etag=product.version)


@router.put("/products/{product_id}", response_model=Envelope[ProductOut], summary="Update a product",
            description="Only the fields sent change. Honours `If-Match` (412).")
def update_product(product_id: str, body: ProductUpdate, request: Request, session: DbSession,
                   principal: WritePrincipal) -> Response:
    product = service.get_product(session, organization_id=principal.organization_id, product_id=product_id)
    check_if_match(request, product.version)
    product = service.update_product(session, organization_id=principal.organization_id, product=product,
                                     changes=body.model_dump(exclude_unset=True), actor=principal.actor)
    return ok(product_dict(product), etag=product.version)


@router.delete("/products/{product_id}", status_code=204, summary="Discontinue a product",
               description="Sets `discontinued`; the product stays readable and stored orders keep it.")
def delete_product(product_id: str, session: DbSession, principal: WritePrincipal) -> Response:
    product = service.get_product(session, organization_id=principal.organization_id, product_id=product_id)
    service.discontinue_product(session, organization_id=principal.organization_id, product=product,
                                actor=principal.actor)
    return no_content()


async def _multipart(request: Request) -> dict[str, Any]:
    """The multipart form (``file`` as bytes), read before the route so a missing product is still a 404 and a
    bad form a 422 with the field's path, decided in the route."""
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        return {}
    try:
        form = await request.form(max_files=1, max_fields=10, max_part_size=64 * 1024)
    except Exception:  # starlette's MultiPartException and friends: a broken form is simply an empty one
        return {}
    values: dict[str, Any] = {}
    for name, value in form.multi_items():
        if isinstance(value, str):
            values[name] = value
        elif name == "file":
            values["file"] = await value.read(images.MAX_IMAGE_BYTES + 1)
    await form.close()
    return values


Multipart = Annotated[dict[str, Any], Depends(_multipart)]


def _upload_doc(fields: dict[str, Any], required: list[str]) -> dict[str, Any]:
    schema = {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}, **fields},
              "required": required}
    return {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": schema}}}}


def _file(form: dict[str, Any]) -> bytes:
    data = form.get("file")
    if not isinstance(data, bytes) or not data:
        raise ImageRejected([{"path": "$.file", "message": "required: a multipart file field named 'file'"}])
    return data


@router.post("/products/{product_id}/images", status_code=201, response_model=Envelope[ProductOut],
             summary="Upload the product image", openapi_extra=_upload_doc({}, ["file"]),
             description="Multipart field `file`: JPEG, PNG or WebP (checked by content), at most 10 MiB and "
                         "8000 px a side (413 / 422 `INVALID_IMAGE`). It becomes the product's `image_url`.")
def upload_image(product_id: str, request: Request, session: DbSession, principal: WritePrincipal,
                 form: Multipart) -> Response:
    product = service.get_product(session, organization_id=principal.organization_id, product_id=product_id)
    images.add_image(session, organization_id=principal.organization_id, product=product, data=_file(form),
                     base_url=str(request.base_url).rstrip("/"), actor=principal.actor)
    return created(product_dict(product), etag=product.version)


@router.get("/products/{product_id}/images/{image_id}", summary="An uploaded product image",
            response_class=Response, responses={200: {"content": {"image/png": {}, "image/jpeg": {},
                                                                  "image/webp": {}}}})
def get_image(product_id: str, image_id: str, session: DbSession, principal: ReadPrincipal) -> Response:
    image = images.get_image(session, organization_id=principal.organization_id, product_id=product_id,
                             image_id=image_id)
    if image is None:
        raise NotFoundError("No such image.", details={"image_id": image_id})
    return Response(image.data, media_type=image.content_type)


_LAYER_FIELDS = {"layer": {"type": "integer", "minimum": 0, "maximum": 1000},
                 "view": {"type": "string", "pattern": r"^[A-Za-z0-9_\-]{1,20}$", "default": "v1"},
                 "size": {"type": "string", "enum": ["x1", "x2"], "default": "x1"},
                 "match": {"type": "string", "description": "JSON object of option paths to values"}}


@router.post("/products/{product_id}/layers", status_code=201, summary="Upload a configurator layer",
             openapi_extra=_upload_doc(_LAYER_FIELDS, ["file", "layer"]),
             description="Multipart: `file` (JPEG/PNG/WebP), `layer` (stacking order, bottom first), `view` "
                         "(e.g. v1), `size` (x1 or x2) and `match`: a JSON object of the option values the layer "
                         "depicts, e.g. `{\"pendant.metal.sku\": \"f\", \"pendant.metal.color\": \"Y\"}`.")
def upload_layer(product_id: str, session: DbSession, principal: WritePrincipal, form: Multipart) -> Response:
    product = service.get_product(session, organization_id=principal.organization_id, product_id=product_id)
    layer, view, size, match = _layer_fields(form)
    row = images.add_layer(session, organization_id=principal.organization_id, product=product, data=_file(form),
                           layer=layer, view=view, size=size, match=match)
    return created({"id": row.id, "product_id": product.id, "layer": row.layer, "view": row.view, "size": row.size,
                    "match": row.match, "width": row.width, "height": row.height})


def _layer_fields(form: dict[str, Any]) -> tuple[int, str, str, dict[str, Any]]:
    errors = []
    layer_text = str(form.get("layer", ""))
    if not layer_text.isdigit() or int(layer_text) > 1000:
        errors.append({"path": "$.layer", "message": "required: a whole number from 0 to 1000"})
    view, size = str(form.get("view") or "v1"), str(form.get("size") or "x1")
    if not re.fullmatch(r"[A-Za-z0-9_\-]{1,20}", view):
        errors.append({"path": "$.view", "message": "1 to 20 letters, digits, '_' or '-'"})
    if size not in images.SIZES:
        errors.append({"path": "$.size", "message": "must be x1 or x2"})
    try:
        match = json.loads(str(form.get("match") or "{}"))
    except ValueError:
        match = None
    if not isinstance(match, dict) or not all(isinstance(v, str | int | float) for v in match.values()):
        errors.append({"path": "$.match", "message": "must be a JSON object of option paths to values"})
    if errors:
        raise ValidationFailed(errors)
    return int(layer_text), view, size, dict(match or {})


# --- configurations ------------------------------------------------------------------------------------------

@router.post("/product-configurations", tags=CONFIGS,
             response_model=Envelope[ConfigurationOut | list[ConfigurationOut]],
             summary="Validate and price a configuration",
             description="WJ's body `{\"items\": {qty, vendor_model, size, configuration}}` (or a list of items). "
                         "422 names each bad choice's JSON path; 404 `PRODUCT_NOT_FOUND` for an unknown vendor_model. "
                         "The caller's pricing tier (if its key has one) overrides the retail.")
def price_configurations(body: ConfigurationRequest, session: DbSession, principal: WritePrincipal) -> Response:
    book = service.price_book(session, organization_id=principal.organization_id)
    results = []
    for prefix, item in body.parsed():
        try:
            quote = service.price_configuration(
                session, organization_id=principal.organization_id, vendor_model=item.vendor_model,
                configuration=item.configuration, size=item.size, qty=item.qty, tier_id=principal.tier_id, book=book)
        except ValidationFailed as exc:
            raise ValidationFailed([{**e, "path": prefix + str(e.get("path", "$")).removeprefix("$")}
                                    for e in exc.errors], message=exc.message) from None
        except VitrinaError as exc:
            if "path" in exc.details:
                exc.details["path"] = prefix + str(exc.details["path"]).removeprefix("$")
            raise
        results.append(quote.as_dict())
    return ok(results if isinstance(body.items, list) else results[0])


@router.get("/product-configurations/{ci}", tags=CONFIGS, response_model=Envelope[StoredConfigurationOut],
            summary="A stored configuration")
def get_configuration(ci: str, session: DbSession, principal: ReadPrincipal) -> Response:
    stored = service.get_configuration(session, organization_id=principal.organization_id, ci=ci)
    return ok({"ci": stored.ci, "product_id": stored.product_id, "vendor_model": stored.vendor_model,
               "size": stored.size, "configuration": stored.configuration,
               "created_at": to_rfc3339(stored.created_at)})


@router.get("/product-configurations/{ci}/image.png", tags=CONFIGS, summary="The configuration's picture",
            response_class=Response, responses={200: {"content": {"image/png": {}}}},
            description="The product's layer images for `view` and `size` whose option values match the "
                        "configuration, composed bottom to top, with the engraving text drawn on top.")
def configuration_image(ci: str, session: DbSession, principal: ReadPrincipal,
                        view: Annotated[str, Query(pattern=r"^[A-Za-z0-9_\-]{1,20}$")] = "v1",
                        size: Literal["x1", "x2"] = "x1") -> Response:
    stored = service.get_configuration(session, organization_id=principal.organization_id, ci=ci)
    png = images.compose(session, organization_id=principal.organization_id, stored=stored, view=view, size=size)
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=300"})


# --- pricing tiers -------------------------------------------------------------------------------------------

@router.get("/pricing_tiers", tags=TIERS, response_model=ListEnvelope[TierOut], summary="List pricing tiers")
def list_tiers(request: Request, session: DbSession, principal: ReadPrincipal, page: PageQuery) -> Response:
    found, total = service.list_pricing_tiers(session, organization_id=principal.organization_id, page=page)
    return paginated(request, [tier_dict(t) for t in found], total, page)


@router.post("/pricing_tiers", tags=TIERS, status_code=201, response_model=Envelope[TierOut],
             summary="Create a pricing tier")
def create_tier(body: TierCreate, session: DbSession, principal: WritePrincipal) -> Response:
    tier = service.create_pricing_tier(session, organization_id=principal.organization_id, name=body.name,
                                       actor=principal.actor)
    return created(tier_dict(tier))


@router.get("/pricing_tiers/{tier_id}/prices", tags=TIERS, response_model=ListEnvelope[TierPriceOut],
            summary="Prices in a tier")
def list_tier_prices(tier_id: str, request: Request, session: DbSession, principal: ReadPrincipal,
                     page: PageQuery) -> Response:
    found, total = service.list_tier_prices(session, organization_id=principal.organization_id, tier_id=tier_id,
                                            page=page)
    return paginated(request, [tier_price_dict(p, currency) for p, currency in found], total, page)


@router.post("/pricing_tiers/{tier_id}/prices", tags=TIERS, status_code=201, response_model=Envelope[TierPriceOut],
             responses={200: {"model": Envelope[TierPriceOut], "description": "An existing price was updated"}},
             summary="Create or update a product's price in a tier",
             description="201 when the tier had no price for the product, 200 when it replaced one. `amount` is "
                         "in the product's currency.")
def upsert_tier_price(tier_id: str, body: TierPriceIn, session: DbSession, principal: WritePrincipal) -> Response:
    price, product, was_created = service.upsert_tier_price(
        session, organization_id=principal.organization_id, tier_id=tier_id, product_ref=body.product_id,
        amount=body.amount, actor=principal.actor)
    return ok(tier_price_dict(price, product.currency), status_code=201 if was_created else 200)


@router.delete("/pricing_tiers/{tier_id}/prices/{price_id}", tags=TIERS, status_code=204,
               summary="Remove a product's price from a tier")
def delete_tier_price(tier_id: str, price_id: str, session: DbSession, principal: WritePrincipal) -> Response:
    service.delete_tier_price(session, organization_id=principal.organization_id, tier_id=tier_id,
                              price_id=price_id, actor=principal.actor)
    return no_content()


# --- configurator socket -------------------------------------------------------------------------------------

MAX_FRAME = 256 * 1024
WJ_PRODUCT_NOT_FOUND, WJ_VALIDATION, WJ_INCORRECT_DATA, WJ_PARAMS, WJ_TOKEN = 72, 90, 4, 1, 2


def _decode_frame(text: str) -> tuple[Any, bool]:
    """(message, was_base64); the message is None when the frame is neither JSON nor base64 of JSON."""
    try:
        return json.loads(text), False
    except ValueError:
        pass
    try:
        return json.loads(base64.b64decode(text.strip(), validate=True).decode("utf-8")), True
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None, False


def _answer(database: Any, organization_id: str, tier_id: str | None, message: Any) -> dict[str, Any]:
    if not isinstance(message, dict):
        return {"status": "error", "error": WJ_INCORRECT_DATA, "message": "The frame is not a JSON object."}
    if message.get("method_id") != 1001:
        return {"status": "error", "error": WJ_PARAMS, "method_id": message.get("method_id"),
                "message": "Unknown method_id (the configurator answers 1001)."}
    qty = message.get("qty", 1)
    try:
        with database.unit_of_work(organization_id=organization_id) as session:
            quote = service.price_configuration(
                session, organization_id=organization_id, vendor_model=message.get("vendor_model"),
                configuration=message.get("configuration"), size=message.get("size"),
                qty=qty if isinstance(qty, int) and not isinstance(qty, bool) and 0 < qty <= 10_000 else 1,
                tier_id=tier_id)
            return {"status": "success", "method_id": 1001, "error": 0, "message": quote.as_dict()}
    except NotFoundError as exc:
        return {"status": "error", "method_id": 1001, "error": WJ_PRODUCT_NOT_FOUND, "message": exc.message}
    except ValidationFailed as exc:
        return {"status": "error", "method_id": 1001, "error": WJ_VALIDATION, "message": exc.message,
                "errors": exc.errors}
    except VitrinaError as exc:
        return {"status": "error", "method_id": 1001, "error": WJ_INCORRECT_DATA, "message": exc.message}


def _authenticate_socket(websocket: WebSocket, token: str) -> tuple[str, str | None] | None:
    database = websocket.app.state.db
    try:
        with database.unit_of_work(write=False) as session:
            key = key_for_token(websocket, session, token)  # type: ignore[arg-type]
            # quoting stores the configuration under its ci: a write, as on POST /product-configurations
            if not accounts.grants(list(key.scopes), "write"):
                return None
            return key.organization_id, key.tier_id
    except VitrinaError:
        return None


@router.websocket("/ws/configurator")
async def configurator(websocket: WebSocket, token: str = "") -> None:
    """WJ's configurator socket (``?token=`` of a key with the ``write`` scope): ``{"method_id": 1001,
    "vendor_model", "configuration"}`` frames, plain JSON or base64 of it (the reply mirrors the framing);
    errors are ``{"status": "error", "error": <WJ code>}``."""
    caller = await run_in_threadpool(_authenticate_socket, websocket, token) if token else None
    if caller is None:
        await websocket.close(code=1008)
        return
    await websocket.accept()
    organization_id, tier_id = caller
    try:
        while True:
            text = await websocket.receive_text()
            if len(text) > MAX_FRAME:
                reply, framed = {"status": "error", "error": WJ_INCORRECT_DATA, "message": "Frame too large."}, False
            else:
                message, framed = _decode_frame(text)
                reply = await run_in_threadpool(_answer, websocket.app.state.db, organization_id, tier_id, message)
            body = json.dumps(reply, default=str)
            await websocket.send_text(base64.b64encode(body.encode()).decode() if framed else body)
    except WebSocketDisconnect:
        return
