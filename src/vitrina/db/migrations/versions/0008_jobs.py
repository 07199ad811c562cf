"""Jobs: the durable job queue, uploaded files (in chunks) and POS sync cursors.

Revision ID: 0008_jobs
Revises: 0001_foundation
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from vitrina.db.types import JSONType, UTCDateTime

revision = "0008_jobs"
down_revision = "0001_foundation"
branch_labels = ("jobs",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("params", JSONType, nullable=False),
        sa.Column("progress_done", sa.Integer(), nullable=False),
        sa.Column("progress_total", sa.Integer()),
        sa.Column("errors", JSONType, nullable=False),
        sa.Column("error_count", sa.Integer(), nullable=False),
        sa.Column("result", JSONType),
        sa.Column("checkpoint", JSONType),
        sa.Column("message", sa.Text()),
        sa.Column("actor", sa.String(64)),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_token", sa.String(32)),
        sa.Column("leased_until", UTCDateTime()),
        sa.Column("started_at", UTCDateTime()),
        sa.Column("finished_at", UTCDateTime()),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_jobs_organization_id", "jobs", ["organization_id"])
    op.create_index("ix_jobs_status_created", "jobs", ["status", "created_at"])

    op.create_table(
        "job_uploads",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("filename", sa.String(255)),
        sa.Column("content_type", sa.String(100)),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_job_uploads_organization_id", "job_uploads", ["organization_id"])
    op.create_table(
        "job_upload_chunks",
        sa.Column("upload_id", sa.String(32),
                  sa.ForeignKey("job_uploads.id", ondelete="CASCADE",
                                name="fk_job_upload_chunks_upload_id_job_uploads"), primary_key=True),
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("data", sa.LargeBinary(), nullable=False),
    )

    op.create_table(
        "job_sync_cursors",
        sa.Column("location_id", sa.String(32), primary_key=True),
        sa.Column("organization_id", sa.String(32), nullable=False),
        sa.Column("cursor", sa.String(100)),
        sa.Column("synced_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_job_sync_cursors_organization_id", "job_sync_cursors", ["organization_id"])


def downgrade() -> None:
    op.drop_table("job_sync_cursors")
    op.drop_table("job_upload_chunks")
    op.drop_table("job_uploads")
    op.drop_table("jobs")
