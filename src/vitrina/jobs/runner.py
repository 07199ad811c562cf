"""The job runner: ``vitrina worker`` runs ``main(settings, stop)``; the CLI and tests use ``run_inline``.

Claiming is a short write transaction: ``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL (concurrent
runners take different jobs) and ``BEGIN IMMEDIATE`` on SQLite (the writer session's lock makes the claim
atomic). A claim sets a lease token and an expiry; the job's handler renews the lease with every batch it
commits. A runner killed mid-job stops renewing, and once the lease has expired the job is claimable again and
resumes from its checkpoint; after ``max_attempts`` claims it is marked failed instead, so no job is left
``running`` forever. No transaction is held open between batches.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session

from vitrina.config import Settings
from vitrina.core.time import utcnow
from vitrina.db.session import Database
from vitrina.jobs import service
from vitrina.jobs.errors import JobFailed, LeaseLost
from vitrina.jobs.models import FAILED, IMPORT, QUEUED, RUNNING, SYNC, Job

log = logging.getLogger(__name__)

Progress = Callable[[int, int | None], None]


@dataclass(frozen=True, slots=True)
class RunnerOptions:
    lease: timedelta = timedelta(seconds=120)
    poll_interval: float = 1.0
    max_attempts: int = 3
    batch_size: int = 1000


@dataclass
class JobContext:
    """What a job handler gets: the database, its lease, and helpers that keep the lease alive."""

    database: Database
    settings: Settings
    lease: service.Lease
    options: RunnerOptions
    stop: threading.Event = field(default_factory=threading.Event)
    on_progress: Progress | None = None

    @property
    def params(self) -> dict[str, Any]:
        return self.lease.params

    @property
    def organization_id(self) -> str:
        return self.lease.organization_id

    @property
    def lease_actor(self) -> str | None:
        return self.lease.actor

    def lease_expiry(self) -> Any:
        return utcnow() + self.options.lease

    def heartbeat(self) -> None:
        """Renew the lease outside a batch (long downloads); raises ``LeaseLost``."""
        with self.database.unit_of_work() as session:
            service.renew(session, self.lease, leased_until=self.lease_expiry())

    def progress(self, done: int, total: int | None) -> None:
        if self.on_progress is not None:
            self.on_progress(done, total)


Handler = Callable[[JobContext], dict[str, Any]]


def handlers() -> dict[str, Handler]:
    from vitrina.jobs import importer, sync

    return {IMPORT: importer.run, SYNC: sync.run}


# --- claiming -------------------------------------------------------------------------------------------------

def claim(database: Database, options: RunnerOptions, *, job_id: str | None = None) -> service.Lease | None:
    """Lease the oldest claimable job (or ``job_id``): queued, running with an expired lease, or running under
    a lease of a runner on this host whose process is gone (a restart resumes at once, not after the lease)."""
    now = utcnow()
    with database.unit_of_work(write=False) as session:  # idle runners take no write lock
        orphaned = _orphaned_tokens(session)
        stale = (Job.leased_until < now) | Job.lease_token.in_(orphaned) if orphaned else Job.leased_until < now
        claimable: tuple[ColumnElement[bool], ...] = (or_(Job.status == QUEUED, (Job.status == RUNNING) & stale),)
        if job_id is not None:
            claimable += (Job.id == job_id,)
        if session.scalar(select(Job.id).where(*claimable).limit(1)) is None:
            return None
    token = lease_token()
    gave_up = False
    with database.unit_of_work() as session:
        job = session.scalar(select(Job).where(*claimable).order_by(Job.created_at, Job.id).limit(1)
                             .with_for_update(skip_locked=True))
        if job is None:
            return None
        interrupted = job.status == RUNNING
        job.attempts += 1
        job.status, job.lease_token, job.leased_until = RUNNING, token, now + options.lease
        job.started_at = job.started_at or now
        job.updated_at = now
        if interrupted and job.attempts > options.max_attempts:
            _give_up(job)
            gave_up = True
        else:
            if interrupted:
                log.warning("job %s: resuming after an interrupted run (attempt %d)", job.id, job.attempts)
            return service.Lease(job_id=job.id, organization_id=job.organization_id, kind=job.kind, token=token,
                                 params=dict(job.params or {}), checkpoint=job.checkpoint,
                                 errors=list(job.errors or []),
                                 error_count=job.error_count, attempts=job.attempts, actor=job.actor)
    # The given-up job is no longer claimable: look for the next one.
    return claim(database, options, job_id=job_id) if gave_up else None


# A lease token starts with its runner's host tag and process id, so a restarted worker recognises the leases of
# the dead process it replaces. (A same-named host in another pid namespace could mistake a live runner for a
# dead one: that runner then loses its lease at its next batch, which rolls back; nothing is applied twice.)
_HOST_TAG = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]


def lease_token() -> str:
    return f"{_HOST_TAG}{os.getpid():08x}{uuid.uuid4().hex[:16]}"


def _orphaned_tokens(session: Session) -> list[str]:
    tokens = session.scalars(select(Job.lease_token).where(Job.status == RUNNING,
                                                           Job.lease_token.startswith(_HOST_TAG, autoescape=True)))
    return [token for token in tokens if token and not _process_alive(token)]


def _process_alive(token: str) -> bool:
    try:
        pid = int(token[8:16], 16)
    except ValueError:
        return True  # not one of ours: leave it to the lease's expiry
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    try:  # a killed child its parent has not reaped yet is a zombie: dead for our purposes
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _give_up(job: Job) -> None:
    done = (job.checkpoint or {}).get("line")
    applied = f"; rows through line {done} were applied" if done else "; no rows were applied"
    job.status, job.lease_token, job.leased_until, job.finished_at = FAILED, None, None, utcnow()
    job.message = f"the job was interrupted {job.attempts - 1} times and was given up{applied}"
    job.result = {**((job.checkpoint or {}).get("result") or (job.checkpoint or {}).get("counts") or {}),
                  "interrupted": True}


# --- running --------------------------------------------------------------------------------------------------

def execute(context: JobContext) -> str:
    """Run a claimed job to its end; returns the final status (``running`` if the lease was lost)."""
    lease = context.lease
    handler = handlers().get(lease.kind)
    outcome: tuple[bool, dict[str, Any] | None, str | None]
    try:
        if handler is None:
            raise JobFailed(f"unknown job kind {lease.kind!r}")
        outcome = (True, handler(context), None)
    except LeaseLost:
        log.warning("job %s: lease lost to another runner; stopping", lease.job_id)
        return RUNNING
    except JobFailed as exc:
        outcome = (False, getattr(exc, "result", None) or _partial(lease), exc.message)
    except Exception as exc:  # a bug in a handler must end the job, not loop on it
        log.exception("job %s failed", lease.job_id)
        outcome = (False, _partial(lease), f"internal error: {type(exc).__name__}")
    succeeded, final, message = outcome
    try:
        with context.database.unit_of_work() as session:
            service.finish(session, lease, succeeded=succeeded, result=final, message=message)
    except LeaseLost:
        return RUNNING
    return "succeeded" if succeeded else FAILED


def _partial(lease: service.Lease) -> dict[str, Any] | None:
    checkpoint = lease.checkpoint or {}
    return checkpoint.get("result") or checkpoint.get("counts")


def run_inline(database: Database, settings: Settings, job_id: str, *, options: RunnerOptions | None = None,
               on_progress: Progress | None = None) -> str | None:
    """Claim ``job_id`` and run it in this thread (the CLI, tests). None when it is not claimable."""
    options = options or RunnerOptions()
    lease = claim(database, options, job_id=job_id)
    if lease is None:
        return None
    return execute(JobContext(database, settings, lease, options, on_progress=on_progress))


def run_pending(database: Database, settings: Settings, *, options: RunnerOptions | None = None,
                limit: int = 100) -> int:
    """Run claimable jobs one after another until none is left (or ``limit``); returns how many ran."""
    options = options or RunnerOptions()
    ran = 0
    while ran < limit:
        lease = claim(database, options)
        if lease is None:
            break
        execute(JobContext(database, settings, lease, options))
        ran += 1
    return ran


def run_loop(settings: Settings, stop: threading.Event, *, options: RunnerOptions | None = None,
             database: Database | None = None) -> None:
    options = options or RunnerOptions()
    owned = database is None
    database = database or Database(settings.database_url)
    log.info("job runner started")
    try:
        while not stop.is_set():
            try:
                lease = claim(database, options)
                if lease is not None:
                    execute(JobContext(database, settings, lease, options, stop=stop))
                    continue
            except Exception:  # a database hiccup must not kill the runner: log, back off, go on
                log.exception("job runner pass failed")
            stop.wait(options.poll_interval)
    finally:
        if owned:
            database.dispose()
        log.info("job runner stopped")


def main(settings: Settings, stop: threading.Event | None = None) -> None:
    """``vitrina worker`` calls this with its stop event; alone, it stops on SIGTERM or Ctrl-C."""
    if stop is None:
        import signal

        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
    run_loop(settings, stop)


def fail_stale(database: Database, *, organization_id: str | None = None) -> int:
    """Mark every expired ``running`` job failed (an operator's broom; normally runners resume them)."""
    now = utcnow()
    with database.unit_of_work() as session:
        query = update(Job).where(Job.status == RUNNING, Job.leased_until < now)
        if organization_id is not None:
            query = query.where(Job.organization_id == organization_id)
        result = session.execute(query.values(status=FAILED, lease_token=None, leased_until=None, finished_at=now,
                                              message="interrupted; marked failed by an operator")
                                 .execution_options(synchronize_session=False))
        return int(getattr(result, "rowcount", 0) or 0)
