"""JSON shapes of the catalog API (the only place that knows JSON names).

Request bodies accept WJ's and Jetbuilt's names too (``model``, ``short_description``, ``jewelryType``,
``plp_image``, ...). Responses are plain dicts built by the ``..._dict`` functions (also event payloads) and
described for OpenAPI by the ``...Out`` models.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, BeforeValidator, Field, ValidationError, field_validator

from vitrina.catalog.models import PRODUCT_STATUSES, MetalPrice, PricingTier, Product, StonePrice, TierPrice
from vitrina.core.errors import ValidationFailed, json_path
from vitrina.core.money import to_str
from vitrina.core.schemas import Currency, Money, RequestModel, money_amount
from vitrina.core.time import to_rfc3339

JEWELRY_TYPES = (4, 5, 7, 8)
MAX_OPTIONS_BYTES = 256 * 1024


def _positive(value: Any) -> Any:
    amount = money_amount(value)
    if amount is not None and amount <= 0:
        raise ValueError("must be greater than zero")
    return amount


Positive = Annotated[Decimal, BeforeValidator(_positive)]
Sku = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9._\-]+$")]
Label = Annotated[str, Field(min_length=1, max_length=100)]


def _names(*names: str) -> AliasChoices:
    return AliasChoices(*names)


# --- products -------------------------------------------------------------------------------------------------

class ProductFields(RequestModel):
    partner_id: str | None = Field(default=None, max_length=100, validation_alias=_names("partner_id", "partnerId"))
    part_number: str | None = Field(default=None, max_length=100,
                                    validation_alias=_names("part_number", "partNumber"))
    description: str | None = Field(default=None, max_length=10_000,
                                    validation_alias=_names("description", "long_description", "longDescription"))
    manufacturer: str | None = Field(default=None, max_length=200)
    jewelry_type: int | None = Field(default=None, validation_alias=_names("jewelry_type", "jewelryType"),
                                     description="Directory `jewelryType`: 4 Earrings, 5 Bracelet, 7 Necklace, 8 Ring.")
    gender: int | None = Field(default=None, ge=0, le=3, description="Directory `productGender`.")
    status: int | None = Field(default=None, description="0 New, 1 Created, 2 Finalized, 9 Disabled, 10 Deleted.")
    discontinued: bool | None = None
    msrp: Money | None = None
    mapp: Money | None = None
    markup: Positive | None = Field(default=None, description="Multiplier applied to the configuration's cost.")
    currency: Currency | None = None
    url: str | None = Field(default=None, max_length=2000)
    image_url: str | None = Field(default=None, max_length=2000, validation_alias=_names("image_url", "plp_image"))
    options: dict[str, Any] | None = Field(default=None, description="WJ's options structure (see docs/catalog.md).")

    @field_validator("jewelry_type")
    @classmethod
    def _jewelry_type(cls, value: int | None) -> int | None:
        if value is not None and value not in JEWELRY_TYPES:
            raise ValueError(f"must be one of {list(JEWELRY_TYPES)} (directory jewelryType)")
        return value

    @field_validator("status")
    @classmethod
    def _status(cls, value: int | None) -> int | None:
        if value is not None and value not in PRODUCT_STATUSES:
            raise ValueError(f"must be one of {list(PRODUCT_STATUSES)} (directory productStatus)")
        return value

    @field_validator("options")
    @classmethod
    def _options(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        for name, spec in value.items():
            if not isinstance(spec, dict):
                raise ValueError(f"options.{name} must be an object")
            for key in ("metal_weight_g", "labor", "price"):
                if key in spec:
                    money_amount(spec[key])
        if len(str(value)) > MAX_OPTIONS_BYTES:
            raise ValueError("options are too large")
        return value


class ProductCreate(ProductFields):
    vendor_model: str = Field(min_length=1, max_length=100, pattern=r"^[^\s/?#]+$",
                              validation_alias=_names("vendor_model", "vendorModel", "model"))
    title: str | None = Field(default=None, min_length=1, max_length=300,
                              validation_alias=_names("title", "short_description", "shortDescription",
                                                      "productName"))
    product_type: Literal[1, 2] = Field(default=1, validation_alias=_names("product_type", "productType"))


class ProductUpdate(ProductFields):
    vendor_model: str | None = Field(default=None, min_length=1, max_length=100, pattern=r"^[^\s/?#]+$",
                                     validation_alias=_names("vendor_model", "vendorModel", "model"))
    title: str | None = Field(default=None, min_length=1, max_length=300,
                              validation_alias=_names("title", "short_description", "shortDescription",
                                                      "productName"))
    product_type: Literal[1, 2] | None = Field(default=None, validation_alias=_names("product_type", "productType"))


class ProductOut(BaseModel):
    id: str
    vendor_model: str
    partner_id: str | None
    part_number: str | None
    title: str
    description: str | None
    manufacturer: str | None
    jewelry_type: int | None
    product_type: int
    gender: int
    status: int
    discontinued: bool
    msrp: str | None
    mapp: str | None
    markup: str
    currency: str
    url: str | None
    image_url: str | None
    retail_start: str | None = Field(description="The retail of the cheapest valid configuration.")
    options: dict[str, Any]
    version: int
    created_at: datetime
    updated_at: datetime


def product_dict(product: Product) -> dict[str, Any]:
    return {
        "id": product.id, "vendor_model": product.vendor_model, "partner_id": product.partner_id,
        "part_number": product.part_number, "title": product.title, "description": product.description,
        "manufacturer": product.manufacturer, "jewelry_type": product.jewelry_type,
        "product_type": product.product_type, "gender": product.gender, "status": product.status,
        "discontinued": product.discontinued, "msrp": to_str(product.msrp, product.currency),
        "mapp": to_str(product.mapp, product.currency), "markup": format(product.markup.normalize(), "f"),
        "currency": product.currency, "url": product.url, "image_url": product.image_url,
        "retail_start": to_str(product.retail_start, product.currency), "options": product.options,
        "version": product.version, "created_at": to_rfc3339(product.created_at),
        "updated_at": to_rfc3339(product.updated_at),
    }


# --- price tables ---------------------------------------------------------------------------------------------

class MetalPriceIn(RequestModel):
    material_title: Label = Field(validation_alias=_names("material_title", "materialTitle"))
    cost_per_gram: Money = Field(validation_alias=_names("cost_per_gram", "costPerGram", "cost"))
    currency: Currency = "USD"
    density_g_cm3: Positive = Field(validation_alias=_names("density_g_cm3", "density"),
                                    description="Density of the alloy in g/cm³ (14K gold ≈ 13.07).")
    purity: Positive = Field(description="Fine metal content, 0 < purity ≤ 1 (14K = 0.585).")

    @field_validator("purity")
    @classmethod
    def _purity(cls, value: Decimal) -> Decimal:
        if value > 1:
            raise ValueError("must be at most 1")
        return value


class MetalPriceOut(BaseModel):
    id: int
    material_sku: str
    material_title: str
    cost: str
    cost_per_gram: str
    currency: str
    density_g_cm3: str
    purity: str
    updated_at: datetime


def metal_dict(metal: MetalPrice) -> dict[str, Any]:
    return {"id": metal.id, "material_sku": metal.material_sku, "material_title": metal.material_title,
            "cost": _dec(metal.cost_per_gram), "cost_per_gram": _dec(metal.cost_per_gram), "currency": metal.currency,
            "density_g_cm3": _dec(metal.density_g_cm3), "purity": _dec(metal.purity),
            "updated_at": to_rfc3339(metal.updated_at)}


class StonePriceIn(RequestModel):
    material_sku: Sku = Field(validation_alias=_names("material_sku", "materialSku"))
    material_title: Label | None = Field(default=None, validation_alias=_names("material_title", "materialTitle"))
    stone_shape: Sku = Field(validation_alias=_names("stone_shape", "stoneShape"))
    weight_stone: Sku = Field(validation_alias=_names("weight_stone", "weightStone"))
    quality: Sku
    weight_from: Money | None = Field(default=None, validation_alias=_names("weight_from", "weightFrom"))
    weight_to: Money | None = Field(default=None, validation_alias=_names("weight_to", "weightTo"))
    cost: Money
    currency: Currency = "USD"


class StonePriceOut(BaseModel):
    id: int
    material_sku: str
    material_title: str
    stone_shape: str
    weight_stone: str
    quality: str
    weight_from: str | None
    weight_to: str | None
    cost: str
    currency: str
    updated_at: datetime


def stone_dict(stone: StonePrice) -> dict[str, Any]:
    return {"id": stone.id, "material_sku": stone.material_sku, "material_title": stone.material_title,
            "stone_shape": stone.stone_shape, "weight_stone": stone.weight_stone, "quality": stone.quality,
            "weight_from": _dec(stone.weight_from), "weight_to": _dec(stone.weight_to), "cost": _dec(stone.cost),
            "currency": stone.currency, "updated_at": to_rfc3339(stone.updated_at)}


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


# --- configurations -------------------------------------------------------------------------------------------

class ConfigurationItem(RequestModel):
    qty: int = Field(default=1, ge=1, le=10_000)
    vendor_model: str = Field(min_length=1, max_length=100, validation_alias=_names("vendor_model", "vendorModel"))
    size: int | float | str | None = Field(default=None,
                                           description="Ring size or chain length, if the product has sizes.")
    configuration: dict[str, Any]

    @field_validator("size")
    @classmethod
    def _size(cls, value: int | float | str | None) -> int | float | str | None:
        if isinstance(value, str) and len(value) > 20:
            raise ValueError("is too long")
        return value


def _item_schema() -> dict[str, Any]:
    schema = ConfigurationItem.model_json_schema()
    schema.pop("title", None)
    return schema


def _items(value: Any) -> Any:
    if isinstance(value, dict):
        return value
    if isinstance(value, list) and 1 <= len(value) <= 100 and all(isinstance(v, dict) for v in value):
        return value
    raise ValueError("must be an item object or a list of 1 to 100 item objects")


class ConfigurationRequest(RequestModel):
    items: Annotated[dict[str, Any] | list[dict[str, Any]], BeforeValidator(_items)] = Field(
        description="WJ's single item object `{qty, vendor_model, size, configuration}`, or a list of them.",
        json_schema_extra=lambda schema: schema.update(_ITEMS_SCHEMA))

    def parsed(self) -> list[tuple[str, ConfigurationItem]]:
        """Each item with its JSON path, validated (errors carry the item's path)."""
        entries = [("$.items", self.items)] if isinstance(self.items, dict) else [
            (f"$.items[{i}]", item) for i, item in enumerate(self.items)]
        result, errors = [], []
        for path, raw in entries:
            try:
                result.append((path, ConfigurationItem.model_validate(raw)))
            except ValidationError as exc:
                errors += [{"path": path + json_path(e["loc"]).removeprefix("$"), "message": e["msg"],
                            "type": e["type"]} for e in exc.errors()]
        if errors:
            raise ValidationFailed(errors)
        return result


_ITEMS_SCHEMA: dict[str, Any] = {"anyOf": [_item_schema(), {"type": "array", "items": _item_schema(),
                                                            "minItems": 1, "maxItems": 100}]}


class BreakdownLine(BaseModel):
    part: str
    item: str
    amount: str


class Breakdown(BaseModel):
    currency: str
    lines: list[dict[str, Any]]
    subtotal: str
    markup: str
    retail: str
    tier: dict[str, Any] | None


class ConfigurationOut(BaseModel):
    vendor_model: str
    product_id: str
    ci: str
    qty: int
    size: str | None
    retail: str
    total: str
    currency: str
    title: str
    description: str | None
    configuration: dict[str, Any]
    breakdown: Breakdown
    layers: list[dict[str, Any]]


class StoredConfigurationOut(BaseModel):
    ci: str
    product_id: str
    vendor_model: str
    size: str | None
    configuration: dict[str, Any]
    created_at: datetime


# --- pricing tiers --------------------------------------------------------------------------------------------

class TierCreate(RequestModel):
    name: str = Field(min_length=1, max_length=200)


class TierOut(BaseModel):
    id: str
    name: str
    created_at: datetime
    updated_at: datetime


def tier_dict(tier: PricingTier) -> dict[str, Any]:
    return {"id": tier.id, "name": tier.name, "created_at": to_rfc3339(tier.created_at),
            "updated_at": to_rfc3339(tier.updated_at)}


class TierPriceIn(RequestModel):
    product_id: str = Field(min_length=1, max_length=100, validation_alias=_names("product_id", "productId"),
                            description="The product's id, vendor_model or partner_id.")
    amount: Money


class ProductRef(BaseModel):
    id: str


class TierPriceOut(BaseModel):
    id: str
    tier_id: str
    amount: str
    currency: str
    product: ProductRef
    created_at: datetime
    updated_at: datetime


def tier_price_dict(price: TierPrice, currency: str) -> dict[str, Any]:
    return {"id": price.id, "tier_id": price.tier_id, "amount": to_str(price.amount, currency), "currency": currency,
            "product": {"id": price.product_id}, "created_at": to_rfc3339(price.created_at),
            "updated_at": to_rfc3339(price.updated_at)}


class DirectoryOut(BaseModel):
    list: list[dict[str, Any]]
