"""Events: webhook subscriptions, deliveries, attempts and the outbox fan-out cursor.

Revision ID: 0007_events
Revises: 0001_foundation
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from vitrina.db.types import JSONType, UTCDateTime

revision = "0007_events"
down_revision = "0001_foundation"
branch_labels = ("events",)
depends_on = None

BigInt = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "webhook_subscriptions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("events", JSONType, nullable=False),
        sa.Column("description", sa.String(500)),
        sa.Column("secret_sealed", sa.String(200), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("disabled_reason", sa.String(300)),
        sa.Column("disabled_at", UTCDateTime()),
        sa.Column("failing_since", UTCDateTime()),
        sa.Column("start_seq", BigInt, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_webhook_subscriptions_organization_id", "webhook_subscriptions", ["organization_id"])
    op.create_index("ix_webhook_subscriptions_org_status", "webhook_subscriptions", ["organization_id", "status"])

    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("subscription_id", sa.String(32),
                  sa.ForeignKey("webhook_subscriptions.id", ondelete="CASCADE",
                                name="fk_webhook_deliveries_subscription_id_webhook_subscriptions"),
                  nullable=False),
        sa.Column("event_id", sa.String(32), nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("event_seq", BigInt),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("attempt_count", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime()),
        sa.Column("lease_token", sa.String(32)),
        sa.Column("leased_until", UTCDateTime()),
        sa.Column("last_status_code", sa.Integer()),
        sa.Column("last_error", sa.String(500)),
        sa.Column("succeeded_at", UTCDateTime()),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("subscription_id", "event_id", name="uq_webhook_deliveries_subscription_id"),
    )
    op.create_index("ix_webhook_deliveries_organization_id", "webhook_deliveries", ["organization_id"])
    op.create_index("ix_webhook_deliveries_due", "webhook_deliveries", ["status", "next_attempt_at"])
    op.create_index("ix_webhook_deliveries_org_subscription", "webhook_deliveries",
                    ["organization_id", "subscription_id", "created_at"])

    op.create_table(
        "webhook_attempts",
        sa.Column("id", BigInt, primary_key=True, autoincrement=True),
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("delivery_id", sa.String(32),
                  sa.ForeignKey("webhook_deliveries.id", ondelete="CASCADE",
                                name="fk_webhook_attempts_delivery_id_webhook_deliveries"),
                  nullable=False),
        sa.Column("attempted_at", UTCDateTime(), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.Column("status_code", sa.Integer()),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("response_body", sa.Text()),
        sa.Column("error", sa.String(500)),
    )
    op.create_index("ix_webhook_attempts_organization_id", "webhook_attempts", ["organization_id"])
    op.create_index("ix_webhook_attempts_delivery", "webhook_attempts", ["delivery_id", "id"])

    fanout = op.create_table(
        "webhook_fanout",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("high_water", BigInt, nullable=False),
        sa.Column("gaps", JSONType, nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    # Start after the events already in the outbox: no subscription existed to receive them.
    high_water = op.get_bind().execute(sa.text("SELECT COALESCE(MAX(seq), 0) FROM events")).scalar_one()
    op.bulk_insert(fanout, [{"id": 1, "high_water": int(high_water), "gaps": {}, "updated_at": datetime.now(UTC)}])


def downgrade() -> None:
    for table in ("webhook_fanout", "webhook_attempts", "webhook_deliveries", "webhook_subscriptions"):
        op.drop_table(table)
