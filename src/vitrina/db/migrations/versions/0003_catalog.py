"""Catalog: products, metal and stone price tables, configurations, pricing tiers, images.

Revision ID: 0003_catalog
Revises: 0001_foundation
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from vitrina.db.types import Amount, JSONType, UTCDateTime

revision = "0003_catalog"
down_revision = "0001_foundation"
branch_labels = ("catalog",)
depends_on = None


def _org_id() -> sa.Column:
    return sa.Column("organization_id", sa.String(32), nullable=False)


def _stamps() -> list[sa.Column]:
    return [sa.Column("created_at", UTCDateTime(), nullable=False),
            sa.Column("updated_at", UTCDateTime(), nullable=False)]


def upgrade() -> None:
    op.create_table(
        "catalog_products",
        sa.Column("id", sa.String(32), primary_key=True),
        _org_id(),
        sa.Column("vendor_model", sa.String(100), nullable=False),
        sa.Column("partner_id", sa.String(100)),
        sa.Column("part_number", sa.String(100)),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("manufacturer", sa.String(200)),
        sa.Column("jewelry_type", sa.Integer()),
        sa.Column("product_type", sa.Integer(), nullable=False),
        sa.Column("gender", sa.Integer(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("discontinued", sa.Boolean(), nullable=False),
        sa.Column("msrp", Amount()),
        sa.Column("mapp", Amount()),
        sa.Column("markup", Amount(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("url", sa.String(2000)),
        sa.Column("image_url", sa.String(2000)),
        sa.Column("retail_start", Amount()),
        sa.Column("options", JSONType, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        *_stamps(),
        sa.UniqueConstraint("organization_id", "vendor_model", name="uq_catalog_products_organization_id_vendor_model"),
    )
    op.create_index("ix_catalog_products_organization_id", "catalog_products", ["organization_id"])
    op.create_index("ix_catalog_products_org_partner", "catalog_products", ["organization_id", "partner_id"])
    op.create_index("ix_catalog_products_org_created", "catalog_products", ["organization_id", "created_at"])

    op.create_table(
        "catalog_metal_prices",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        _org_id(),
        sa.Column("material_sku", sa.String(40), nullable=False),
        sa.Column("material_title", sa.String(100), nullable=False),
        sa.Column("cost_per_gram", Amount(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("density_g_cm3", Amount(), nullable=False),
        sa.Column("purity", Amount(), nullable=False),
        *_stamps(),
        sa.UniqueConstraint("organization_id", "material_sku",
                            name="uq_catalog_metal_prices_organization_id_material_sku"),
    )
    op.create_index("ix_catalog_metal_prices_organization_id", "catalog_metal_prices", ["organization_id"])

    op.create_table(
        "catalog_stone_prices",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        _org_id(),
        sa.Column("material_sku", sa.String(40), nullable=False),
        sa.Column("material_title", sa.String(100), nullable=False),
        sa.Column("stone_shape", sa.String(40), nullable=False),
        sa.Column("weight_stone", sa.String(40), nullable=False),
        sa.Column("quality", sa.String(40), nullable=False),
        sa.Column("weight_from", Amount()),
        sa.Column("weight_to", Amount()),
        sa.Column("cost", Amount(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        *_stamps(),
        sa.UniqueConstraint("organization_id", "material_sku", "stone_shape", "weight_stone", "quality",
                            name="uq_catalog_stone_prices_key"),
    )
    op.create_index("ix_catalog_stone_prices_organization_id", "catalog_stone_prices", ["organization_id"])

    op.create_table(
        "catalog_configurations",
        sa.Column("id", sa.String(32), primary_key=True),
        _org_id(),
        sa.Column("ci", sa.String(200), nullable=False),
        sa.Column("product_id", sa.String(32),
                  sa.ForeignKey("catalog_products.id", name="fk_catalog_configurations_product_id_catalog_products"),
                  nullable=False),
        sa.Column("vendor_model", sa.String(100), nullable=False),
        sa.Column("size", sa.String(40)),
        sa.Column("configuration", JSONType, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("organization_id", "ci", name="uq_catalog_configurations_organization_id_ci"),
    )
    op.create_index("ix_catalog_configurations_organization_id", "catalog_configurations", ["organization_id"])

    op.create_table(
        "catalog_pricing_tiers",
        sa.Column("id", sa.String(32), primary_key=True),
        _org_id(),
        sa.Column("name", sa.String(200), nullable=False),
        *_stamps(),
    )
    op.create_index("ix_catalog_pricing_tiers_organization_id", "catalog_pricing_tiers", ["organization_id"])

    op.create_table(
        "catalog_tier_prices",
        sa.Column("id", sa.String(32), primary_key=True),
        _org_id(),
        sa.Column("tier_id", sa.String(32),
                  sa.ForeignKey("catalog_pricing_tiers.id",
                                name="fk_catalog_tier_prices_tier_id_catalog_pricing_tiers"), nullable=False),
        sa.Column("product_id", sa.String(32),
                  sa.ForeignKey("catalog_products.id", name="fk_catalog_tier_prices_product_id_catalog_products"),
                  nullable=False),
        sa.Column("amount", Amount(), nullable=False),
        *_stamps(),
        sa.UniqueConstraint("tier_id", "product_id", name="uq_catalog_tier_prices_tier_id_product_id"),
    )
    op.create_index("ix_catalog_tier_prices_organization_id", "catalog_tier_prices", ["organization_id"])

    op.create_table(
        "catalog_images",
        sa.Column("id", sa.String(32), primary_key=True),
        _org_id(),
        sa.Column("product_id", sa.String(32),
                  sa.ForeignKey("catalog_products.id", name="fk_catalog_images_product_id_catalog_products"),
                  nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("content_type", sa.String(40), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("layer", sa.Integer()),
        sa.Column("view", sa.String(20)),
        sa.Column("size", sa.String(20)),
        sa.Column("match", JSONType, nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_catalog_images_organization_id", "catalog_images", ["organization_id"])
    op.create_index("ix_catalog_images_product", "catalog_images", ["product_id", "kind"])


def downgrade() -> None:
    for table in ("catalog_images", "catalog_tier_prices", "catalog_pricing_tiers", "catalog_configurations",
                  "catalog_stone_prices", "catalog_metal_prices", "catalog_products"):
        op.drop_table(table)
