"""Jobs: records, uploads and the lease protocol the runner uses.

Service functions take the caller's session, flush and never commit (the request, the CLI command or the job
batch owns the transaction). ``record_batch`` is the heart of the durability story: a batch's changes, its
progress, its row errors and the checkpoint to resume from are written in one transaction, guarded by the
runner's lease, so after a crash the job's record says exactly which rows are applied.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from vitrina.core.ids import has_prefix, new_id
from vitrina.core.time import to_rfc3339, utcnow
from vitrina.db.session import Database
from vitrina.jobs.errors import JobNotFound, LeaseLost, UploadNotFound
from vitrina.jobs.models import FAILED, QUEUED, RUNNING, SUCCEEDED, Job, Upload, UploadChunk

CHUNK_BYTES = 1024 * 1024  # an upload is stored (and read back) in pieces of this size
MAX_STORED_ERRORS = 1000  # row errors kept on the job; ``error_count`` counts them all


# --- records --------------------------------------------------------------------------------------------------

def create_job(session: Session, *, organization_id: str, kind: str, params: dict[str, Any],
               actor: str | None, job_id: str | None = None) -> Job:
    """A queued job; a runner (``vitrina worker``) or ``run_inline`` picks it up."""
    now = utcnow()
    job = Job(id=job_id or new_id("job"), organization_id=organization_id, kind=kind, status=QUEUED,
              params=params, progress_done=0, errors=[], error_count=0, attempts=0, actor=actor, version=1,
              created_at=now, updated_at=now)
    session.add(job)
    session.flush()
    return job


def get_job(session: Session, *, organization_id: str, job_id: str) -> Job:
    if not has_prefix(job_id, "job"):
        raise JobNotFound(details={"id": job_id})
    job = session.scalar(select(Job).where(Job.organization_id == organization_id, Job.id == job_id))
    if job is None:
        raise JobNotFound(details={"id": job_id})
    return job


def job_dict(job: Job) -> dict[str, Any]:
    """The job as ``GET /jobs/{id}`` shows it."""
    return {
        "id": job.id, "kind": job.kind, "status": job.status,
        "progress": {"done": job.progress_done, "total": job.progress_total},
        "errors": list(job.errors or []), "error_count": job.error_count, "result": _result(job),
        "message": job.message, "attempts": job.attempts,
        "created_at": to_rfc3339(job.created_at), "started_at": _time(job.started_at),
        "finished_at": _time(job.finished_at), "updated_at": to_rfc3339(job.updated_at),
    }


def _result(job: Job) -> dict[str, Any] | None:
    """The final result; before the end, what the last committed batch recorded (so a job interrupted by a
    crash says exactly which rows are applied: through ``applied_through_line``, except its ``errors``)."""
    if job.result is not None:
        return job.result
    return (job.checkpoint or {}).get("result")


def _time(value: datetime | None) -> str | None:
    return None if value is None else to_rfc3339(value)


# --- uploads --------------------------------------------------------------------------------------------------

def store_upload(session: Session, *, organization_id: str, filename: str | None, content_type: str | None,
                 stream: BinaryIO) -> Upload:
    """Copy a file into the database chunk by chunk (the whole file is never in memory)."""
    upload = Upload(id=new_id("upl"), organization_id=organization_id, filename=_clean_name(filename),
                    content_type=(content_type or "")[:100] or None, size=0, created_at=utcnow())
    session.add(upload)
    session.flush()
    seq = 0
    while chunk := stream.read(CHUNK_BYTES):
        session.add(UploadChunk(upload_id=upload.id, seq=seq, data=chunk))
        upload.size += len(chunk)
        seq += 1
        session.flush()
    return upload


def _clean_name(filename: str | None) -> str | None:
    """Only for display: the name is never used as a path."""
    if not filename:
        return None
    cleaned = "".join(ch for ch in filename if ch.isprintable() and ch not in "/\\")
    return cleaned[-255:] or None


def get_upload(session: Session, *, organization_id: str, upload_id: str) -> Upload:
    if not has_prefix(upload_id, "upl"):
        raise UploadNotFound(details={"upload_id": upload_id})
    upload = session.scalar(select(Upload).where(Upload.organization_id == organization_id,
                                                 Upload.id == upload_id))
    if upload is None:
        raise UploadNotFound(details={"upload_id": upload_id})
    return upload


class UploadReader(io.RawIOBase):
    """A stored upload as a binary file, one chunk query at a time in short read transactions (a job that
    runs for minutes holds no transaction open while it reads)."""

    def __init__(self, database: Database, upload_id: str) -> None:
        super().__init__()
        self._database = database
        self._upload_id = upload_id
        self._seq = 0
        self._buffer = b""
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        if not self._buffer and not self._done:
            with self._database.unit_of_work(write=False) as session:
                data = session.scalar(select(UploadChunk.data).where(UploadChunk.upload_id == self._upload_id,
                                                                     UploadChunk.seq == self._seq))
            self._seq += 1
            if data is None:
                self._done = True
            else:
                self._buffer = bytes(data)
        size = min(len(target), len(self._buffer))
        target[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return size


def upload_chunks(database: Database, upload_id: str) -> Iterator[bytes]:
    reader = UploadReader(database, upload_id)
    while chunk := reader.read(CHUNK_BYTES):
        yield chunk


# --- the lease protocol ---------------------------------------------------------------------------------------

@dataclass
class Lease:
    """What a runner holds while it works on a job."""

    job_id: str
    organization_id: str
    kind: str
    token: str
    params: dict[str, Any]
    checkpoint: dict[str, Any] | None
    errors: list[dict[str, Any]]
    error_count: int
    attempts: int
    actor: str | None = None


def record_batch(session: Session, lease: Lease, *, done: int, total: int | None, new_errors: list[dict[str, Any]],
                 checkpoint: dict[str, Any], leased_until: datetime) -> None:
    """Write progress, row errors and the checkpoint in the batch's own transaction, and renew the lease.
    Raises ``LeaseLost`` (the caller rolls the batch back) when another runner has taken the job over."""
    kept = (lease.errors + new_errors)[:MAX_STORED_ERRORS]
    values: dict[str, Any] = {"progress_done": done, "progress_total": total, "checkpoint": checkpoint,
                              "error_count": lease.error_count + len(new_errors), "leased_until": leased_until,
                              "updated_at": utcnow()}
    if len(kept) != len(lease.errors):
        values["errors"] = kept
    _guarded_update(session, lease, values)
    lease.errors, lease.error_count, lease.checkpoint = kept, values["error_count"], checkpoint


def renew(session: Session, lease: Lease, *, leased_until: datetime) -> None:
    _guarded_update(session, lease, {"leased_until": leased_until})


def finish(session: Session, lease: Lease, *, succeeded: bool, result: dict[str, Any] | None,
           message: str | None = None, done: int | None = None) -> None:
    values: dict[str, Any] = {"status": SUCCEEDED if succeeded else FAILED, "result": result, "message": message,
                              "lease_token": None, "leased_until": None, "finished_at": utcnow(),
                              "updated_at": utcnow(), "errors": lease.errors, "error_count": lease.error_count}
    if done is not None:
        values["progress_done"] = done
        if succeeded:
            values["progress_total"] = done
    _guarded_update(session, lease, values)


def _guarded_update(session: Session, lease: Lease, values: dict[str, Any]) -> None:
    result = session.execute(update(Job).where(Job.id == lease.job_id, Job.lease_token == lease.token,
                                               Job.status == RUNNING)
                             .values(**values).execution_options(synchronize_session=False))
    if not getattr(result, "rowcount", 0):
        raise LeaseLost(lease.job_id)
