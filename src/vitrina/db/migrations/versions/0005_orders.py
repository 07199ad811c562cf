"""Orders: made-to-order orders, their items and status history.

Revision ID: 0005_orders
Revises: 0001_foundation
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from vitrina.db.types import Amount, JSONType, UTCDateTime

revision = "0005_orders"
down_revision = "0001_foundation"
branch_labels = ("orders",)
depends_on = None

BigSerial = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("external_order_id", sa.String(100)),
        sa.Column("order_date", UTCDateTime(), nullable=False),
        sa.Column("customer_id", sa.String(32)),
        sa.Column("customer_name", sa.String(200)),
        sa.Column("customer_email", sa.String(254)),
        sa.Column("customer_phone", sa.String(50)),
        sa.Column("shipping_address", JSONType),
        sa.Column("billing_address", JSONType),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("payment_status", sa.Integer(), nullable=False),
        sa.Column("pay_method", sa.Integer(), nullable=False),
        sa.Column("order_type", sa.Integer(), nullable=False),
        sa.Column("order_purpose", sa.Integer(), nullable=False),
        sa.Column("tracking_number", sa.String(100)),
        sa.Column("transaction_id", sa.String(100)),
        sa.Column("comment", sa.Text()),
        sa.Column("message", sa.Text()),
        sa.Column("subtotal", Amount(), nullable=False),
        sa.Column("total", Amount(), nullable=False),
        sa.Column("received_at", UTCDateTime()),
        sa.Column("created_by", sa.String(64)),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("organization_id", "external_order_id",
                            name="uq_orders_organization_id_external_order_id"),
    )
    op.create_index("ix_orders_organization_id", "orders", ["organization_id"])
    op.create_index("ix_orders_org_status", "orders", ["organization_id", "status"])
    op.create_index("ix_orders_org_created", "orders", ["organization_id", "created_at"])
    op.create_index("ix_orders_org_customer", "orders", ["organization_id", "customer_id"])

    op.create_table(
        "order_items",
        sa.Column("id", BigSerial, primary_key=True, autoincrement=True),
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("order_id", sa.String(32),
                  sa.ForeignKey("orders.id", ondelete="CASCADE", name="fk_order_items_order_id_orders"),
                  nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("vendor_model", sa.String(100), nullable=False),
        sa.Column("product_id", sa.String(32)),
        sa.Column("configuration_id", sa.String(200), nullable=False),
        sa.Column("configuration", JSONType),
        sa.Column("size", JSONType),
        sa.Column("title", sa.String(300)),
        sa.Column("description", sa.Text()),
        sa.Column("unit_price", Amount(), nullable=False),
        sa.Column("amount", Amount(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("breakdown", JSONType),
        sa.Column("inventory_ids", JSONType, nullable=False),
    )
    op.create_index("ix_order_items_organization_id", "order_items", ["organization_id"])
    op.create_index("ix_order_items_order_id", "order_items", ["order_id"])
    op.create_index("ix_order_items_org_configuration", "order_items", ["organization_id", "configuration_id"])

    op.create_table(
        "order_status_history",
        sa.Column("id", BigSerial, primary_key=True, autoincrement=True),
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("order_id", sa.String(32),
                  sa.ForeignKey("orders.id", ondelete="CASCADE", name="fk_order_status_history_order_id_orders"),
                  nullable=False),
        sa.Column("from_status", sa.Integer()),
        sa.Column("to_status", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(64)),
        sa.Column("comment", sa.Text()),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_order_status_history_organization_id", "order_status_history", ["organization_id"])
    op.create_index("ix_order_status_history_order_id", "order_status_history", ["order_id"])


def downgrade() -> None:
    for table in ("order_status_history", "order_items", "orders"):
        op.drop_table(table)
