"""Inventory: items, the movements ledger and reservations.

Revision ID: 0002_inventory
Revises: 0001_foundation
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from vitrina.db.types import Amount, JSONType, UTCDateTime

revision = "0002_inventory"
down_revision = "0001_foundation"
branch_labels = ("inventory",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inventory_items",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("external_id", sa.String(100)),
        sa.Column("sku", sa.String(100), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("category", sa.String(100)),
        sa.Column("description", sa.Text()),
        sa.Column("tracking", sa.String(12), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("reserved_quantity", sa.Integer(), nullable=False),
        sa.Column("low_stock_threshold", sa.Integer()),
        sa.Column("location_id", sa.String(32),
                  sa.ForeignKey("locations.id", name="fk_inventory_items_location_id_locations")),
        sa.Column("room_type", sa.String(16), nullable=False),
        sa.Column("price", Amount()),
        sa.Column("cost", Amount()),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("supplier_id", sa.String(100)),
        sa.Column("certification", sa.String(8)),
        sa.Column("cert_number", sa.String(100)),
        sa.Column("product_id", sa.String(100)),
        sa.Column("configuration_id", sa.String(200)),
        sa.Column("attributes", JSONType, nullable=False),
        sa.Column("last_moved_at", UTCDateTime()),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("organization_id", "external_id", name="uq_inventory_items_organization_id_external_id"),
    )
    op.create_index("ix_inventory_items_organization_id", "inventory_items", ["organization_id"])
    serialized_cert = sa.text("tracking = 'serialized' AND cert_number IS NOT NULL")
    op.create_index("uq_inventory_items_serialized_cert", "inventory_items",
                    ["organization_id", "sku", "cert_number"], unique=True,
                    sqlite_where=serialized_cert, postgresql_where=serialized_cert)
    op.create_index("ix_inventory_items_org_location", "inventory_items",
                    ["organization_id", "location_id", "room_type"])
    op.create_index("ix_inventory_items_org_sku", "inventory_items", ["organization_id", "sku"])
    op.create_index("ix_inventory_items_org_created", "inventory_items", ["organization_id", "created_at"])
    op.create_index("ix_inventory_items_org_updated", "inventory_items", ["organization_id", "updated_at"])
    op.create_index("ix_inventory_items_org_status", "inventory_items", ["organization_id", "status"])

    op.create_table(
        "inventory_movements",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("item_id", sa.String(32),
                  sa.ForeignKey("inventory_items.id", name="fk_inventory_movements_item_id_inventory_items"),
                  nullable=False),
        sa.Column("item_version", sa.Integer(), nullable=False),
        sa.Column("quantity_change", sa.Integer(), nullable=False),
        sa.Column("quantity_after", sa.Integer(), nullable=False),
        sa.Column("reason_code", sa.String(12), nullable=False),
        sa.Column("notes", sa.Text()),
        sa.Column("reference", sa.String(255)),
        sa.Column("actor", sa.String(64)),
        sa.Column("location_id", sa.String(32)),
        sa.Column("room_type", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("item_id", "item_version", name="uq_inventory_movements_item_id_item_version"),
    )
    op.create_index("ix_inventory_movements_organization_id", "inventory_movements", ["organization_id"])
    # "Last movement of this item at or before T" is one probe of this index; on PostgreSQL it also covers
    # the columns a snapshot reads, so the probe never touches the table.
    op.create_index("ix_inventory_movements_item_time", "inventory_movements",
                    ["item_id", "created_at", "item_version"],
                    postgresql_include=["quantity_after", "location_id", "room_type"])
    transfers = sa.text("reason_code = 'TRANSFER'")
    op.create_index("ix_inventory_movements_transfers", "inventory_movements",
                    ["organization_id", "location_id", "item_id"],
                    sqlite_where=transfers, postgresql_where=transfers)

    op.create_table(
        "inventory_reservations",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("item_id", sa.String(32),
                  sa.ForeignKey("inventory_items.id", name="fk_inventory_reservations_item_id_inventory_items"),
                  nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(255)),
        sa.Column("expires_at", UTCDateTime()),
        sa.Column("actor", sa.String(64)),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("released_at", UTCDateTime()),
        sa.Column("release_reason", sa.String(16)),
    )
    op.create_index("ix_inventory_reservations_organization_id", "inventory_reservations", ["organization_id"])
    op.create_index("ix_inventory_reservations_item_open", "inventory_reservations", ["item_id", "released_at"])
    _make_ledger_append_only()


def _make_ledger_append_only() -> None:
    """The database itself refuses to change or remove a movement, whatever code (or person) asks."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION inventory_movements_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'inventory_movements is append-only: movements are never updated or deleted';
            END $$""")
        op.execute("""
            CREATE TRIGGER inventory_movements_append_only BEFORE UPDATE OR DELETE ON inventory_movements
            FOR EACH ROW EXECUTE FUNCTION inventory_movements_append_only()""")
        return
    for action in ("UPDATE", "DELETE"):
        op.execute(f"""
            CREATE TRIGGER inventory_movements_no_{action.lower()} BEFORE {action} ON inventory_movements
            BEGIN
                SELECT RAISE(ABORT, 'inventory_movements is append-only: movements are never updated or deleted');
            END""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS inventory_movements_append_only ON inventory_movements")
        op.execute("DROP FUNCTION IF EXISTS inventory_movements_append_only()")
    for table in ("inventory_reservations", "inventory_movements", "inventory_items"):
        op.drop_table(table)
