"""Sales: customers, transactions and transaction lines.

Revision ID: 0004_sales
Revises: 0001_foundation
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from vitrina.db.types import Amount, JSONType, UTCDateTime

revision = "0004_sales"
down_revision = "0001_foundation"
branch_labels = ("sales",)
depends_on = None

BigSerial = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("external_id", sa.String(100)),
        sa.Column("name", sa.String(200)),
        sa.Column("email", sa.String(254)),
        sa.Column("phone", sa.String(50)),
        sa.Column("addresses", JSONType, nullable=False),
        sa.Column("tier_id", sa.String(32)),
        sa.Column("notes", sa.Text()),
        sa.Column("anonymized_at", UTCDateTime()),
        sa.Column("deleted_at", UTCDateTime()),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("organization_id", "external_id", name="uq_customers_organization_id_external_id"),
    )
    op.create_index("ix_customers_organization_id", "customers", ["organization_id"])
    op.create_index("ix_customers_org_email", "customers", ["organization_id", "email"])
    op.create_index("ix_customers_org_name", "customers", ["organization_id", "name"])
    op.create_index("ix_customers_org_phone", "customers", ["organization_id", "phone"])

    op.create_table(
        "transactions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("type", sa.String(8), nullable=False),
        sa.Column("customer_id", sa.String(32)),
        sa.Column("location_id", sa.String(32)),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("payment_method", sa.String(40)),
        sa.Column("reference", sa.String(255)),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("unit_count", sa.Integer(), nullable=False),
        sa.Column("subtotal", Amount(), nullable=False),
        sa.Column("total", Amount(), nullable=False),
        sa.Column("actor", sa.String(64)),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_transactions_organization_id", "transactions", ["organization_id"])
    op.create_index("ix_transactions_org_created", "transactions", ["organization_id", "created_at"])
    op.create_index("ix_transactions_org_customer", "transactions", ["organization_id", "customer_id"])
    op.create_index("ix_transactions_org_location", "transactions", ["organization_id", "location_id"])

    op.create_table(
        "transaction_lines",
        sa.Column("id", BigSerial, primary_key=True, autoincrement=True),
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("transaction_id", sa.String(32),
                  sa.ForeignKey("transactions.id", ondelete="CASCADE",
                                name="fk_transaction_lines_transaction_id_transactions"),
                  nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("inventory_id", sa.String(32), nullable=False),
        sa.Column("sku", sa.String(100)),
        sa.Column("name", sa.String(300)),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", Amount(), nullable=False),
        sa.Column("amount", Amount(), nullable=False),
        sa.Column("price_source", sa.String(16), nullable=False),
        sa.Column("movement_id", sa.String(32)),
        sa.Column("sale_line_id", BigSerial,
                  sa.ForeignKey("transaction_lines.id", name="fk_transaction_lines_sale_line_id_transaction_lines")),
        sa.Column("returned_quantity", sa.Integer(), nullable=False),
    )
    op.create_index("ix_transaction_lines_organization_id", "transaction_lines", ["organization_id"])
    op.create_index("ix_transaction_lines_transaction_id", "transaction_lines", ["transaction_id"])
    op.create_index("ix_transaction_lines_org_inventory", "transaction_lines", ["organization_id", "inventory_id"])


def downgrade() -> None:
    for table in ("transaction_lines", "transactions", "customers"):
        op.drop_table(table)
