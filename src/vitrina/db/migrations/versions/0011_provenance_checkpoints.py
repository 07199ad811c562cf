"""Provenance: the signed ledger checkpoints handed out, for ``vitrina check`` to compare against.

Revision ID: 0011_provenance_checkpoints
Revises: 0006_provenance
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from vitrina.db.types import UTCDateTime

revision = "0011_provenance_checkpoints"
down_revision = "0006_provenance"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_checkpoints",
        sa.Column("organization_id", sa.String(32), primary_key=True),
        sa.Column("tree_size", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("root_hash", sa.LargeBinary(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("key_id", sa.String(16), nullable=False),
        sa.Column("timestamp", UTCDateTime(), nullable=False),
        sa.Column("issued_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ledger_checkpoints")
