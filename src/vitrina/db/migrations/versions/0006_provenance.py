"""Provenance: passports, ownership transfers, the Merkle ledger (leaves, subtree nodes, heads) and keys.

Revision ID: 0006_provenance
Revises: 0001_foundation
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from vitrina.db.types import JSONType, UTCDateTime

revision = "0006_provenance"
down_revision = "0001_foundation"
branch_labels = ("provenance",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "passports",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("tag_id", sa.String(128), nullable=False),
        sa.Column("product_name", sa.String(300), nullable=False),
        sa.Column("brand", sa.String(200)),
        sa.Column("serial_number", sa.String(200)),
        sa.Column("category", sa.String(100)),
        sa.Column("metadata", JSONType, nullable=False),
        sa.Column("inventory_id", sa.String(32)),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("status_note", sa.Text()),
        sa.Column("current_owner", sa.String(255), nullable=False),
        sa.Column("current_owner_name", sa.String(300)),
        sa.Column("transfer_count", sa.Integer(), nullable=False),
        sa.Column("verification_count", sa.Integer(), nullable=False),
        sa.Column("last_verified_at", UTCDateTime()),
        sa.Column("registered_at", UTCDateTime(), nullable=False),
        sa.Column("sun_uid", sa.String(14)),
        sa.Column("meta_key_sealed", sa.LargeBinary()),
        sa.Column("file_key_sealed", sa.LargeBinary()),
        sa.Column("last_counter", sa.Integer()),
        sa.Column("signing_public_key", sa.String(64)),
        sa.Column("last_signed_timestamp", sa.Integer()),
        sa.Column("ledger_index", sa.Integer()),
        sa.Column("ledger_hash", sa.String(64)),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("organization_id", "tag_id", name="uq_passports_organization_id_tag_id"),
    )
    op.create_index("ix_passports_organization_id", "passports", ["organization_id"])
    has_uid = sa.text("sun_uid IS NOT NULL")
    op.create_index("uq_passports_org_sun_uid", "passports", ["organization_id", "sun_uid"], unique=True,
                    sqlite_where=has_uid, postgresql_where=has_uid)
    op.create_index("ix_passports_org_inventory", "passports", ["organization_id", "inventory_id"])
    op.create_index("ix_passports_tag_id", "passports", ["tag_id"])

    op.create_table(
        "passport_transfers",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("passport_id", sa.String(32),
                  sa.ForeignKey("passports.id", name="fk_passport_transfers_passport_id_passports"),
                  nullable=False),
        sa.Column("from_owner", sa.String(255), nullable=False),
        sa.Column("to_owner", sa.String(255), nullable=False),
        sa.Column("message", sa.Text()),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("claim_code_hash", sa.String(64), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("completed_at", UTCDateTime()),
        sa.Column("cancelled_at", UTCDateTime()),
    )
    op.create_index("ix_passport_transfers_organization_id", "passport_transfers", ["organization_id"])
    pending = sa.text("status = 'pending'")
    op.create_index("uq_passport_transfers_pending", "passport_transfers", ["passport_id"], unique=True,
                    sqlite_where=pending, postgresql_where=pending)
    op.create_index("ix_passport_transfers_org_created", "passport_transfers", ["organization_id", "created_at"])

    op.create_table(
        "ledger_heads",
        sa.Column("organization_id", sa.String(32), primary_key=True),
        sa.Column("tree_size", sa.Integer(), nullable=False),
        sa.Column("last_leaf_hash", sa.String(64)),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "ledger_leaves",
        sa.Column("organization_id", sa.String(32), primary_key=True),
        sa.Column("leaf_index", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("passport_id", sa.String(32)),
        sa.Column("event_type", sa.String(40), nullable=False),
        sa.Column("leaf_data", sa.LargeBinary(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_ledger_leaves_passport_id", "ledger_leaves", ["passport_id"])
    op.create_table(
        "ledger_nodes",
        sa.Column("organization_id", sa.String(32), primary_key=True),
        sa.Column("level", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("node_index", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        "provenance_keys",
        sa.Column("organization_id", sa.String(32), primary_key=True),
        sa.Column("master_key_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    for table in ("provenance_keys", "ledger_nodes", "ledger_leaves", "ledger_heads", "passport_transfers",
                  "passports"):
        op.drop_table(table)
