"""Foundation: organizations, API keys, the event outbox, idempotency records, audit log, locations.

Revision ID: 0001_foundation
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from vitrina.db.types import JSONType, UTCDateTime

revision = "0001_foundation"
down_revision = None
branch_labels = ("foundation",)
depends_on = None

BigSerial = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "organizations",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("plan", sa.String(20), nullable=False),
        sa.Column("rate_limit_per_minute", sa.Integer()),
        sa.Column("default_currency", sa.String(3), nullable=False, server_default="USD"),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("organization_id", sa.String(32),
                  sa.ForeignKey("organizations.id", ondelete="CASCADE",
                                name="fk_api_keys_organization_id_organizations"),
                  nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("api_key", sa.String(64), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("scopes", JSONType, nullable=False),
        sa.Column("mode", sa.String(4), nullable=False),
        sa.Column("plan", sa.String(20)),
        sa.Column("tier_id", sa.String(32)),
        sa.Column("revoked_at", UTCDateTime()),
        sa.Column("last_used_at", UTCDateTime()),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("api_key", name="uq_api_keys_api_key"),
    )
    op.create_index("ix_api_keys_organization_id", "api_keys", ["organization_id"])

    op.create_table(
        "events",
        sa.Column("seq", BigSerial, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("data", JSONType, nullable=False),
        sa.Column("actor", sa.String(64)),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("id", name="uq_events_id"),
    )
    op.create_index("ix_events_organization_id", "events", ["organization_id"])
    op.create_index("ix_events_org_seq", "events", ["organization_id", "seq"])
    op.create_index("ix_events_org_type_created", "events", ["organization_id", "type", "created_at"])

    op.create_table(
        "idempotency_keys",
        sa.Column("id", BigSerial, primary_key=True, autoincrement=True),
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("status_code", sa.Integer()),
        sa.Column("headers", JSONType),
        sa.Column("body", sa.LargeBinary()),
        sa.Column("locked_at", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("organization_id", "key", name="uq_idempotency_keys_organization_id"),
    )
    op.create_index("ix_idempotency_keys_organization_id", "idempotency_keys", ["organization_id"])
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"])

    op.create_table(
        "audit_log",
        sa.Column("id", BigSerial, primary_key=True, autoincrement=True),
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(64)),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(64)),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_audit_log_organization_id", "audit_log", ["organization_id"])
    op.create_index("ix_audit_org_created", "audit_log", ["organization_id", "created_at"])

    op.create_table(
        "locations",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("address", JSONType),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("deleted_at", UTCDateTime()),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("organization_id", "code", name="uq_locations_organization_id"),
    )
    op.create_index("ix_locations_organization_id", "locations", ["organization_id"])


def downgrade() -> None:
    for table in ("locations", "audit_log", "idempotency_keys", "events", "api_keys", "organizations"):
        op.drop_table(table)
