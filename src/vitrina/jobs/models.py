"""Job tables: the durable queue the runner works from, uploaded files, and POS sync cursors."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from vitrina.core.time import utcnow
from vitrina.db.base import Base, OrgScoped, Timestamped, Versioned
from vitrina.db.types import JSONType, UTCDateTime

QUEUED, RUNNING, SUCCEEDED, FAILED = "queued", "running", "succeeded", "failed"
STATUSES = (QUEUED, RUNNING, SUCCEEDED, FAILED)
IMPORT, SYNC = "inventory.import", "inventory.sync"
KINDS = (IMPORT, SYNC)


class Job(OrgScoped, Timestamped, Versioned, Base):
    """One unit of background work.

    A runner *leases* a job (``lease_token``, ``leased_until``) and renews the lease with every batch it
    commits; a runner that dies stops renewing, so another runner re-claims the job once the lease has
    expired and resumes from ``checkpoint`` (what the last committed batch recorded in the same transaction as
    its changes). ``attempts`` counts claims: a job that keeps killing its runner ends ``failed``.
    """

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status_created", "status", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default=QUEUED)
    params: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    progress_done: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    progress_total: Mapped[int | None] = mapped_column(Integer)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, nullable=False, default=list)
    error_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    checkpoint: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    message: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    lease_token: Mapped[str | None] = mapped_column(String(32))
    leased_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Upload(OrgScoped, Base):
    """A file sent to the API (an import or a CSV sync source), kept in the database in chunks so that any
    worker host can read it as a stream."""

    __tablename__ = "job_uploads"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    filename: Mapped[str | None] = mapped_column(String(255))
    content_type: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class UploadChunk(Base):
    __tablename__ = "job_upload_chunks"

    upload_id: Mapped[str] = mapped_column(String(32), ForeignKey("job_uploads.id", ondelete="CASCADE"),
                                           primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


class SyncCursor(OrgScoped, Base):
    """Where the last successful incremental (or full) POS sync of a location got to."""

    __tablename__ = "job_sync_cursors"

    location_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    cursor: Mapped[str | None] = mapped_column(String(100))
    synced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
