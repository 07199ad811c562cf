"""Catalog business rules: directories, products, price tables, configuration pricing, pricing tiers, images.

Every function takes the session and the organization, flushes when it needs ids, and never commits (the
request's unit of work does). Other domains (sales, orders, the WJ adapter, pages) call only this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vitrina.catalog import directories, pricing
from vitrina.catalog.errors import (
    ConfigurationNotFound,
    DirectoryNotFound,
    PricingTierNotFound,
    ProductNotFound,
    ProductUnavailable,
    TierPriceNotFound,
    VendorModelTaken,
)
from vitrina.catalog.models import (
    STATUS_CREATED,
    STATUS_DELETED,
    STATUS_DISABLED,
    Configuration,
    MetalPrice,
    PricingTier,
    Product,
    StonePrice,
    TierPrice,
)
from vitrina.core.errors import ValidationFailed
from vitrina.core.ids import has_prefix, new_id
from vitrina.core.money import quantize
from vitrina.core.outbox import emit
from vitrina.core.pagination import Page


def _num(value: Decimal) -> str:
    """A stored amount as event text, the same on every database (no trailing zeros of NUMERIC(18, 6))."""
    return format(Decimal(value).normalize(), "f")


# --- directories ---------------------------------------------------------------------------------------------


def directory(session: Session, *, organization_id: str, name: str) -> list[dict[str, Any]]:
    if name in directories.STATIC:
        return directories.STATIC[name]
    if name == "metalLock":
        from vitrina.catalog.schemas import metal_dict

        return [metal_dict(m) for m in _metals(session, organization_id)]
    if name == "stoneLock":
        from vitrina.catalog.schemas import stone_dict

        return [stone_dict(s) for s in _stones(session, organization_id)]
    raise DirectoryNotFound(details={"name": name, "directories": list(directories.NAMES)})


def currency_code(session: Session, *, organization_id: str, number: int) -> str | None:
    """A currency directory id (or ISO 4217 number) → its ISO code, None when unknown."""
    return directories.currency_code(number)


# --- price tables --------------------------------------------------------------------------------------------

def _metals(session: Session, organization_id: str) -> list[MetalPrice]:
    return list(session.scalars(select(MetalPrice).where(MetalPrice.organization_id == organization_id)
                                .order_by(MetalPrice.id)))


def _stones(session: Session, organization_id: str) -> list[StonePrice]:
    return list(session.scalars(select(StonePrice).where(StonePrice.organization_id == organization_id)
                                .order_by(StonePrice.id)))


def price_book(session: Session, *, organization_id: str) -> pricing.PriceBook:
    """The organization's metal and stone tables in the engine's form: two queries, whatever the product."""
    book = pricing.PriceBook(rates=dict(directories.RATES))
    for metal in _metals(session, organization_id):
        book.metals[metal.material_sku.casefold()] = pricing.MetalCost(
            sku=metal.material_sku, title=metal.material_title, cost_per_gram=metal.cost_per_gram,
            currency=metal.currency, density=metal.density_g_cm3, purity=metal.purity)
    for stone in _stones(session, organization_id):
        key = tuple(v.casefold() for v in (stone.material_sku, stone.stone_shape, stone.weight_stone, stone.quality))
        book.stones[key] = pricing.StoneCost(material_sku=stone.material_sku, cost=stone.cost,  # type: ignore[index]
                                             currency=stone.currency)
    return book


def put_metal_price(session: Session, *, organization_id: str, material_sku: str, material_title: str,
                    cost_per_gram: Decimal, currency: str, density_g_cm3: Decimal, purity: Decimal,
                    actor: str | None = None) -> tuple[MetalPrice, bool]:
    """Create or replace one metal's row; new quotes use it at once, stored orders keep their frozen price."""
    metal = session.scalar(select(MetalPrice).where(MetalPrice.organization_id == organization_id,
                                                    func.lower(MetalPrice.material_sku) == material_sku.lower()))
    created = metal is None
    if metal is None:
        metal = MetalPrice(organization_id=organization_id, material_sku=material_sku)
        session.add(metal)
    previous = None if created else _num(metal.cost_per_gram)
    metal.material_title, metal.cost_per_gram, metal.currency = material_title, cost_per_gram, currency
    metal.density_g_cm3, metal.purity = density_g_cm3, purity
    session.flush()
    emit(session, organization_id=organization_id, type="price.updated", actor=actor,
         data={"table": "metal", "material_sku": metal.material_sku, "material_title": material_title,
               "cost_per_gram": _num(cost_per_gram), "previous_cost_per_gram": previous,
               "currency": currency, "density_g_cm3": _num(density_g_cm3), "purity": _num(purity)})
    refresh_retail_start(session, organization_id=organization_id)
    return metal, created


def put_stone_price(session: Session, *, organization_id: str, material_sku: str, material_title: str | None,
                    stone_shape: str, weight_stone: str, quality: str, weight_from: Decimal | None,
                    weight_to: Decimal | None, cost: Decimal, currency: str,
                    actor: str | None = None) -> tuple[StonePrice, bool]:
    """Create or replace the row for (material, shape, weight class, quality)."""
    if weight_from is not None and weight_to is not None and weight_from > weight_to:
        raise ValidationFailed.field("$.weight_to", "must not be less than weight_from")
    stone = session.scalar(select(StonePrice).where(
        StonePrice.organization_id == organization_id,
        func.lower(StonePrice.material_sku) == material_sku.lower(),
        func.lower(StonePrice.stone_shape) == stone_shape.lower(),
        func.lower(StonePrice.weight_stone) == weight_stone.lower(),
        func.lower(StonePrice.quality) == quality.lower()))
    created = stone is None
    if stone is None:
        stone = StonePrice(organization_id=organization_id, material_sku=material_sku, stone_shape=stone_shape,
                           weight_stone=weight_stone, quality=quality)
        session.add(stone)
    previous = None if created else _num(stone.cost)
    stone.material_title = material_title or stone.material_title or material_sku
    stone.weight_from, stone.weight_to, stone.cost, stone.currency = weight_from, weight_to, cost, currency
    session.flush()
    emit(session, organization_id=organization_id, type="price.updated", actor=actor,
         data={"table": "stone", "material_sku": stone.material_sku, "stone_shape": stone.stone_shape,
               "weight_stone": stone.weight_stone, "quality": stone.quality, "cost": _num(cost),
               "previous_cost": previous, "currency": currency})
    refresh_retail_start(session, organization_id=organization_id)
    return stone, created


def refresh_retail_start(session: Session, *, organization_id: str, products: list[Product] | None = None) -> None:
    """Recompute ``retail_start`` (the cheapest valid configuration) after options or prices change."""
    book = price_book(session, organization_id=organization_id)
    if products is None:
        products = list(session.scalars(select(Product).where(Product.organization_id == organization_id)))
    for product in products:
        start = _retail_start(product, book)
        if start != product.retail_start:
            product.retail_start = start


def _retail_start(product: Product, book: pricing.PriceBook) -> Decimal | None:
    if not product.options:
        return product.msrp
    best = pricing.cheapest(product.options, book=book, currency=product.currency, markup=product.markup)
    return None if best is None else best.retail


# --- products ------------------------------------------------------------------------------------------------

PRODUCT_DEFAULTS: dict[str, Any] = {"product_type": 1, "gender": 0, "status": STATUS_CREATED, "discontinued": False,
                                    "currency": "USD", "markup": Decimal(1), "options": {}}


def create_product(session: Session, *, organization_id: str, fields: dict[str, Any],
                   actor: str | None = None) -> Product:
    values = {**PRODUCT_DEFAULTS, **{k: v for k, v in fields.items() if v is not None}}
    values.setdefault("title", values["vendor_model"])
    _ensure_vendor_model_free(session, organization_id=organization_id, vendor_model=values["vendor_model"])
    product = Product(id=new_id("prd"), organization_id=organization_id, **values)
    session.add(product)
    session.flush()
    refresh_retail_start(session, organization_id=organization_id, products=[product])
    session.flush()
    emit(session, organization_id=organization_id, type="product.created", actor=actor, data=_event(product))
    return product


_NOT_NULL = frozenset({"vendor_model", "title", "product_type", "gender", "status", "discontinued", "currency",
                       "markup", "options"})


def update_product(session: Session, *, organization_id: str, product: Product, changes: dict[str, Any],
                   actor: str | None = None) -> Product:
    changes = {k: v for k, v in changes.items() if v is not None or k not in _NOT_NULL}
    new_model = changes.get("vendor_model")
    if new_model is not None and new_model.lower() != product.vendor_model.lower():
        _ensure_vendor_model_free(session, organization_id=organization_id, vendor_model=new_model)
    for key, value in changes.items():
        setattr(product, key, value)
    product.version += 1
    refresh_retail_start(session, organization_id=organization_id, products=[product])
    session.flush()
    emit(session, organization_id=organization_id, type="product.updated", actor=actor,
         data={**_event(product), "changed": sorted(changes)})
    return product


def discontinue_product(session: Session, *, organization_id: str, product: Product,
                        actor: str | None = None) -> Product:
    if not product.discontinued:
        product.discontinued = True
        product.version += 1
        session.flush()
        emit(session, organization_id=organization_id, type="product.updated", actor=actor,
             data={**_event(product), "changed": ["discontinued"]})
    return product


def _event(product: Product) -> dict[str, Any]:
    return {"product_id": product.id, "vendor_model": product.vendor_model, "title": product.title,
            "discontinued": product.discontinued, "status": product.status, "version": product.version,
            "retail_start": None if product.retail_start is None else _num(product.retail_start),
            "currency": product.currency}


def _ensure_vendor_model_free(session: Session, *, organization_id: str, vendor_model: str) -> None:
    taken = session.scalar(select(Product.id).where(Product.organization_id == organization_id,
                                                    func.lower(Product.vendor_model) == vendor_model.lower()))
    if taken is not None:
        raise VendorModelTaken(details={"vendor_model": vendor_model, "product_id": taken, "path": "$.vendor_model"})


def get_product(session: Session, *, organization_id: str, product_id: str) -> Product:
    """A product by id, ``vendor_model`` (case-insensitive) or ``partner_id``."""
    ref = product_id
    scope = select(Product).where(Product.organization_id == organization_id)
    if has_prefix(ref, "prd"):
        product = session.scalar(scope.where(Product.id == ref))
    else:
        product = session.scalar(scope.where(Product.vendor_model == ref)) or session.scalar(
            scope.where(func.lower(Product.vendor_model) == ref.lower())) or session.scalar(
            scope.where(Product.partner_id == ref).order_by(Product.id).limit(1))
    if product is None:
        raise ProductNotFound(details={"product_id": ref})
    return product


def list_products(session: Session, *, organization_id: str, page: Page, query: str | None = None,
                  jewelry_type: int | None = None, product_type: int | None = None, status: int | None = None,
                  discontinued: bool | None = None) -> tuple[list[Product], int]:
    statement = select(Product).where(Product.organization_id == organization_id)
    if query:
        pattern = "%" + query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        statement = statement.where(or_(func.lower(Product.vendor_model).like(pattern, escape="\\"),
                                        func.lower(Product.part_number).like(pattern, escape="\\"),
                                        func.lower(Product.title).like(pattern, escape="\\")))
    for column, value in ((Product.jewelry_type, jewelry_type), (Product.product_type, product_type),
                          (Product.status, status), (Product.discontinued, discontinued)):
        if value is not None:
            statement = statement.where(column == value)
    total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    rows = session.scalars(statement.order_by(Product.created_at, Product.id).limit(page.limit).offset(page.offset))
    return list(rows), total


# --- configurations ------------------------------------------------------------------------------------------

@dataclass(slots=True)
class Quote:
    """A priced configuration (the answer of ``POST /product-configurations`` and of the socket)."""

    product_id: str
    vendor_model: str
    ci: str
    qty: int
    size: str | None
    retail: Decimal
    currency: str
    title: str
    description: str | None
    configuration: dict[str, Any]
    breakdown: dict[str, Any]
    layers: list[dict[str, Any]] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return self.retail * self.qty

    def as_dict(self) -> dict[str, Any]:
        return {"vendor_model": self.vendor_model, "product_id": self.product_id, "ci": self.ci, "qty": self.qty,
                "size": self.size, "retail": format(quantize(self.retail, self.currency), "f"),
                "total": format(quantize(self.total, self.currency), "f"), "currency": self.currency,
                "title": self.title, "description": self.description, "configuration": self.configuration,
                "breakdown": self.breakdown, "layers": self.layers}


def price_configuration(session: Session, *, organization_id: str, vendor_model: str | None,
                        configuration: dict[str, Any] | None, size: int | float | str | None, qty: int,
                        tier_id: str | None, book: pricing.PriceBook | None = None) -> Quote:
    """Validate and price one configuration, store it under its ``ci``; a tier's price overrides the retail.

    Error paths are relative to the item (``$.vendor_model``, ``$.configuration.pendant.metal.sku``, ``$.size``).
    """
    if not vendor_model:
        raise ValidationFailed.field("$.vendor_model", "required")
    try:
        product = get_product(session, organization_id=organization_id, product_id=str(vendor_model))
    except ProductNotFound as exc:
        exc.details["path"] = "$.vendor_model"
        raise
    if product.status in (STATUS_DISABLED, STATUS_DELETED):
        raise ProductUnavailable(details={"vendor_model": product.vendor_model, "path": "$.vendor_model"})
    if configuration is None:
        if product.options:
            raise ValidationFailed.field("$.configuration", "required: this product is configurable")
        configuration = {}
    book = book or price_book(session, organization_id=organization_id)
    if product.options:
        priced = pricing.evaluate(product.options, configuration, size, book=book, currency=product.currency,
                                  markup=product.markup)
    else:
        priced = _simple(product, configuration, size)
    breakdown = priced.breakdown()
    retail = priced.retail
    if tier_id:
        override = tier_price(session, organization_id=organization_id, tier_id=tier_id, product_id=product.id)
        if override is not None:
            retail = quantize(override, product.currency)
            breakdown["tier"] = {"tier_id": tier_id, "amount": format(retail, "f")}
    ci = pricing.configuration_id(product.vendor_model, priced.canonical, priced.size)
    _store_configuration(session, organization_id=organization_id, product=product, ci=ci,
                         canonical=priced.canonical, size=priced.size)
    return Quote(product_id=product.id, vendor_model=product.vendor_model, ci=ci, qty=qty, size=priced.size,
                 retail=retail, currency=product.currency, title=product.title,
                 description=_describe(product, priced.canonical), configuration=priced.canonical,
                 breakdown=breakdown, layers=_layers(session, organization_id=organization_id, product=product,
                                                     ci=ci))


def _simple(product: Product, configuration: dict[str, Any], size: int | float | str | None) -> pricing.Priced:
    """A product without options: its MSRP is the price and it takes no choices."""
    if configuration:
        raise ValidationFailed.field("$.configuration", "this product has no options to configure")
    if product.msrp is None:
        raise ValidationFailed.field("$.vendor_model", "the product has neither options nor an msrp to price it by")
    amount = product.msrp
    line = {"part": "product", "item": "msrp", "amount": _num(amount)}
    size_text = None if size is None else str(size)
    return pricing.Priced(canonical={}, size=size_text, lines=[line], subtotal=amount, markup=Decimal(1),
                          retail=quantize(amount, product.currency), currency=product.currency)


def _describe(product: Product, canonical: dict[str, Any]) -> str | None:
    parts = []
    for name, choice in canonical.items():
        if name == "engraving" or not isinstance(choice, dict):
            continue
        metal = choice.get("metal") or {}
        text = name
        if metal:
            title = (_metal_title(product, name, metal.get("sku")) or metal.get("sku"))
            text += f": {title} {metal.get('color') or ''}".rstrip()
        if choice.get("stone"):
            text += f", {len(choice['stone'])} stone(s)"
        parts.append(text)
    summary = "; ".join(parts)
    if product.description and summary:
        return f"{product.description} ({summary})"
    return product.description or summary or None


def _metal_title(product: Product, part: str, sku: str | None) -> str | None:
    found = pricing._find((product.options.get(part) or {}).get("metal"), sku, "material_sku")
    if found and isinstance(found[1], dict):
        return str(found[1].get("material_title") or found[0])
    return None


def _store_configuration(session: Session, *, organization_id: str, product: Product, ci: str,
                         canonical: dict[str, Any], size: str | None) -> None:
    exists = session.scalar(select(Configuration.id).where(Configuration.organization_id == organization_id,
                                                           Configuration.ci == ci))
    if exists is not None:
        return
    try:
        with session.begin_nested():  # a concurrent request may store the same ci first: that is fine
            session.add(Configuration(id=new_id("cfg"), organization_id=organization_id, ci=ci,
                                      product_id=product.id, vendor_model=product.vendor_model, size=size,
                                      configuration=canonical))
    except IntegrityError:
        pass


def get_configuration(session: Session, *, organization_id: str, ci: str) -> Configuration:
    found = session.scalar(select(Configuration).where(Configuration.organization_id == organization_id,
                                                       Configuration.ci == ci))
    if found is None:
        found = session.scalar(select(Configuration).where(Configuration.organization_id == organization_id,
                                                           func.upper(Configuration.ci) == ci.upper()))
    if found is None:
        raise ConfigurationNotFound(details={"ci": ci})
    return found


def _layers(session: Session, *, organization_id: str, product: Product, ci: str) -> list[dict[str, Any]]:
    from vitrina.catalog import images

    return images.layer_refs(session, organization_id=organization_id, product=product, ci=ci)


# --- pricing tiers -------------------------------------------------------------------------------------------

def create_pricing_tier(session: Session, *, organization_id: str, name: str, actor: str | None = None) -> PricingTier:
    tier = PricingTier(id=new_id("tier"), organization_id=organization_id, name=name)
    session.add(tier)
    session.flush()
    emit(session, organization_id=organization_id, type="pricing_tier.created", actor=actor,
         data={"tier_id": tier.id, "name": name})
    return tier


def list_pricing_tiers(session: Session, *, organization_id: str, page: Page) -> tuple[list[PricingTier], int]:
    statement = select(PricingTier).where(PricingTier.organization_id == organization_id)
    total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    rows = session.scalars(statement.order_by(PricingTier.id).limit(page.limit).offset(page.offset))
    return list(rows), total


def get_pricing_tier(session: Session, *, organization_id: str, tier_id: str) -> PricingTier:
    tier = session.scalar(select(PricingTier).where(PricingTier.organization_id == organization_id,
                                                    PricingTier.id == tier_id))
    if tier is None:
        raise PricingTierNotFound(details={"tier_id": tier_id})
    return tier


def list_tier_prices(session: Session, *, organization_id: str, tier_id: str,
                     page: Page) -> tuple[list[tuple[TierPrice, str]], int]:
    get_pricing_tier(session, organization_id=organization_id, tier_id=tier_id)
    statement = (select(TierPrice, Product.currency).join(Product, Product.id == TierPrice.product_id)
                 .where(TierPrice.organization_id == organization_id, TierPrice.tier_id == tier_id))
    total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    rows = session.execute(statement.order_by(TierPrice.id).limit(page.limit).offset(page.offset))
    return [(price, currency) for price, currency in rows], total


def upsert_tier_price(session: Session, *, organization_id: str, tier_id: str, product_ref: str, amount: Decimal,
                      actor: str | None = None) -> tuple[TierPrice, Product, bool]:
    """Jetbuilt's create-or-update: one price per product and tier (``created`` tells 201 from 200)."""
    tier = get_pricing_tier(session, organization_id=organization_id, tier_id=tier_id)
    try:
        product = get_product(session, organization_id=organization_id, product_id=product_ref)
    except ProductNotFound as exc:
        # the product is part of the body, not the path: a bad reference is a validation error of that field
        raise ValidationFailed.field("$.product_id", "no such product in this organization") from exc
    price = session.scalar(select(TierPrice).where(TierPrice.organization_id == organization_id,
                                                   TierPrice.tier_id == tier.id, TierPrice.product_id == product.id))
    created = price is None
    if price is None:
        price = TierPrice(id=new_id("price"), organization_id=organization_id, tier_id=tier.id,
                          product_id=product.id, amount=amount)
        session.add(price)
    else:
        price.amount = amount
    session.flush()
    emit(session, organization_id=organization_id, type="pricing_tier.price_updated", actor=actor,
         data={"tier_id": tier.id, "price_id": price.id, "product_id": product.id, "amount": _num(amount),
               "currency": product.currency, "created": created})
    return price, product, created


def delete_tier_price(session: Session, *, organization_id: str, tier_id: str, price_id: str,
                      actor: str | None = None) -> None:
    get_pricing_tier(session, organization_id=organization_id, tier_id=tier_id)
    price = session.scalar(select(TierPrice).where(TierPrice.organization_id == organization_id,
                                                   TierPrice.tier_id == tier_id, TierPrice.id == price_id))
    if price is None:
        raise TierPriceNotFound(details={"tier_id": tier_id, "price_id": price_id})
    session.delete(price)
    session.flush()
    emit(session, organization_id=organization_id, type="pricing_tier.price_deleted", actor=actor,
         data={"tier_id": tier_id, "price_id": price_id, "product_id": price.product_id})


def tier_price(session: Session, *, organization_id: str, tier_id: str, product_id: str) -> Decimal | None:
    """The product's price in the tier, None when the tier has no price for it."""
    amount = session.scalar(select(TierPrice.amount).where(TierPrice.organization_id == organization_id,
                                                           TierPrice.tier_id == tier_id,
                                                           TierPrice.product_id == product_id))
    return None if amount is None else Decimal(amount)
