"""Inventory: indexes for the hot reads measured by the benchmark (issue 11).

- ``ix_inventory_items_org_location_status``: the list's usual filter (organization, location, status) in
  the order of its default sort (``created_at, id``), INCLUDE-ing the two quantities its "not fully held"
  condition reads. The page is then the first rows of one index range, and the exact ``X-Total-Count`` the
  contract requires is an index-only count instead of a heap visit per row.
- ``ix_inventory_movements_item_time`` gains ``organization_id`` in its INCLUDE list (PostgreSQL only): the
  snapshot's per-item probe carries the tenancy filter, which otherwise cost one heap visit per probe.

Revision ID: 0010_inventory_read_indexes
Revises: 0002_inventory
"""

from __future__ import annotations

from alembic import op

revision = "0010_inventory_read_indexes"
down_revision = "0002_inventory"
branch_labels = None
depends_on = None

_MOVEMENT_KEY = ["item_id", "created_at", "item_version"]


def upgrade() -> None:
    op.create_index("ix_inventory_items_org_location_status", "inventory_items",
                    ["organization_id", "location_id", "status", "created_at", "id"],
                    postgresql_include=["quantity", "reserved_quantity"])
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_inventory_movements_item_time", table_name="inventory_movements")
        op.create_index("ix_inventory_movements_item_time", "inventory_movements", _MOVEMENT_KEY,
                        postgresql_include=["quantity_after", "location_id", "room_type", "organization_id"])


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_inventory_movements_item_time", table_name="inventory_movements")
        op.create_index("ix_inventory_movements_item_time", "inventory_movements", _MOVEMENT_KEY,
                        postgresql_include=["quantity_after", "location_id", "room_type"])
    op.drop_index("ix_inventory_items_org_location_status", table_name="inventory_items")
