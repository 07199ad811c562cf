"""Catalog tables: products with their options, metal and stone price tables, stored configurations, pricing
tiers and their prices, and product images (photos and configurator layers)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from vitrina.core.time import utcnow
from vitrina.db.base import Base, OrgScoped, Timestamped, Versioned
from vitrina.db.types import Amount, JSONType, UTCDateTime

# WJ's productStatus directory: 0 New, 1 Created, 2 Finalized, 9 Disabled, 10 Deleted.
STATUS_NEW, STATUS_CREATED, STATUS_FINALIZED, STATUS_DISABLED, STATUS_DELETED = 0, 1, 2, 9, 10
PRODUCT_STATUSES = (STATUS_NEW, STATUS_CREATED, STATUS_FINALIZED, STATUS_DISABLED, STATUS_DELETED)
SIMPLE, CUSTOMIZABLE = 1, 2


class Product(OrgScoped, Timestamped, Versioned, Base):
    """A catalog product: WJ's configurable piece or Jetbuilt's vendor product (the same row serves both)."""

    __tablename__ = "catalog_products"
    __table_args__ = (
        UniqueConstraint("organization_id", "vendor_model"),
        Index("ix_catalog_products_org_partner", "organization_id", "partner_id"),
        Index("ix_catalog_products_org_created", "organization_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    vendor_model: Mapped[str] = mapped_column(String(100), nullable=False)
    partner_id: Mapped[str | None] = mapped_column(String(100))
    part_number: Mapped[str | None] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    manufacturer: Mapped[str | None] = mapped_column(String(200))
    jewelry_type: Mapped[int | None] = mapped_column(Integer)
    product_type: Mapped[int] = mapped_column(Integer, nullable=False, default=SIMPLE)
    gender: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    status: Mapped[int] = mapped_column(Integer, nullable=False, default=STATUS_CREATED)
    discontinued: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    msrp: Mapped[Decimal | None] = mapped_column(Amount)
    mapp: Mapped[Decimal | None] = mapped_column(Amount)
    markup: Mapped[Decimal] = mapped_column(Amount, nullable=False, default=Decimal(1))
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="USD")
    url: Mapped[str | None] = mapped_column(String(2000))
    image_url: Mapped[str | None] = mapped_column(String(2000))
    retail_start: Mapped[Decimal | None] = mapped_column(Amount)
    options: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)


class MetalPrice(OrgScoped, Timestamped, Base):
    """One row of the metal lock table: cost per gram, density and purity of an alloy (WJ's ``metalLock``)."""

    __tablename__ = "catalog_metal_prices"
    __table_args__ = (UniqueConstraint("organization_id", "material_sku"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    material_sku: Mapped[str] = mapped_column(String(40), nullable=False)
    material_title: Mapped[str] = mapped_column(String(100), nullable=False)
    cost_per_gram: Mapped[Decimal] = mapped_column(Amount, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    density_g_cm3: Mapped[Decimal] = mapped_column(Amount, nullable=False)
    purity: Mapped[Decimal] = mapped_column(Amount, nullable=False)


class StonePrice(OrgScoped, Timestamped, Base):
    """One row of the stone lock table: the cost of one stone of a material, shape, weight class and quality."""

    __tablename__ = "catalog_stone_prices"
    __table_args__ = (UniqueConstraint("organization_id", "material_sku", "stone_shape", "weight_stone", "quality",
                                       name="uq_catalog_stone_prices_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    material_sku: Mapped[str] = mapped_column(String(40), nullable=False)
    material_title: Mapped[str] = mapped_column(String(100), nullable=False)
    stone_shape: Mapped[str] = mapped_column(String(40), nullable=False)
    weight_stone: Mapped[str] = mapped_column(String(40), nullable=False)
    quality: Mapped[str] = mapped_column(String(40), nullable=False)
    weight_from: Mapped[Decimal | None] = mapped_column(Amount)
    weight_to: Mapped[Decimal | None] = mapped_column(Amount)
    cost: Mapped[Decimal] = mapped_column(Amount, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)


class Configuration(OrgScoped, Base):
    """A validated, canonical configuration of a product, stored under its deterministic ``ci``."""

    __tablename__ = "catalog_configurations"
    __table_args__ = (UniqueConstraint("organization_id", "ci"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    ci: Mapped[str] = mapped_column(String(200), nullable=False)
    product_id: Mapped[str] = mapped_column(String(32), ForeignKey("catalog_products.id"), nullable=False)
    vendor_model: Mapped[str] = mapped_column(String(100), nullable=False)
    size: Mapped[str | None] = mapped_column(String(40))
    configuration: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class PricingTier(OrgScoped, Timestamped, Base):
    """Jetbuilt's pricing tier: a named price list that overrides products' retail for keys and customers."""

    __tablename__ = "catalog_pricing_tiers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)


class TierPrice(OrgScoped, Timestamped, Base):
    """One product's price in one tier (at most one per tier and product)."""

    __tablename__ = "catalog_tier_prices"
    __table_args__ = (UniqueConstraint("tier_id", "product_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tier_id: Mapped[str] = mapped_column(String(32), ForeignKey("catalog_pricing_tiers.id"), nullable=False)
    product_id: Mapped[str] = mapped_column(String(32), ForeignKey("catalog_products.id"), nullable=False)
    amount: Mapped[Decimal] = mapped_column(Amount, nullable=False)


class ProductImage(OrgScoped, Base):
    """A product photo (``kind='image'``) or a configurator layer (``kind='layer'``), bytes kept in the database
    so every app server sees them without a shared disk."""

    __tablename__ = "catalog_images"
    __table_args__ = (Index("ix_catalog_images_product", "product_id", "kind"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    product_id: Mapped[str] = mapped_column(String(32), ForeignKey("catalog_products.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(8), nullable=False)
    content_type: Mapped[str] = mapped_column(String(40), nullable=False)
    width: Mapped[int] = mapped_column(Integer, nullable=False)
    height: Mapped[int] = mapped_column(Integer, nullable=False)
    layer: Mapped[int | None] = mapped_column(Integer)
    view: Mapped[str | None] = mapped_column(String(20))
    size: Mapped[str | None] = mapped_column(String(20))
    match: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
