"""Queuing import and sync jobs: everything that can be checked before the job runs is checked here, so a
bad request is a 4xx at once (and leaves nothing behind), not a failed job later."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy.orm import Session

from vitrina.config import Settings
from vitrina.core.errors import ValidationFailed
from vitrina.core.ids import new_id
from vitrina.events import secretbox
from vitrina.events.ssrf import UnsafeUrl, UrlPolicy, check_url
from vitrina.inventory import service as inventory
from vitrina.jobs import parse
from vitrina.jobs import service as jobs
from vitrina.jobs.models import IMPORT, SYNC, Job
from vitrina.jobs.schemas import CsvSource, HttpSource, SyncIn


def queue_import(session: Session, *, organization_id: str, actor: str | None, filename: str | None,
                 content_type: str | None, stream: BinaryIO, fmt: str | None, mapping: str | None) -> Job:
    try:
        parse.parse_map(mapping)
    except parse.FileProblem as exc:
        raise ValidationFailed.field("$.map", exc.message) from None
    head = stream.read(4096)
    stream.seek(0)
    if not head.strip():
        raise ValidationFailed.field("$.file", "the file is empty")
    if problem := parse.encoding_problem(head):
        raise ValidationFailed.field("$.file", problem)
    upload = jobs.store_upload(session, organization_id=organization_id, filename=filename,
                               content_type=content_type, stream=stream)
    params = {"upload_id": upload.id, "filename": upload.filename, "size": upload.size,
              "format": fmt or parse.detect_format(filename, content_type, head), "map": mapping}
    return jobs.create_job(session, organization_id=organization_id, kind=IMPORT, params=params, actor=actor)


def import_path_job(session: Session, *, organization_id: str, actor: str | None, path: Path, fmt: str | None,
                    mapping: str | None) -> Job:
    """An import of a local file (the CLI: the operator may read any file the process can)."""
    try:
        parse.parse_map(mapping)
    except parse.FileProblem as exc:
        raise ValidationFailed.field("$.map", exc.message) from None
    with path.open("rb") as stream:
        head = stream.read(4096)
    if problem := parse.encoding_problem(head):
        raise ValidationFailed.field("$.file", problem)
    params = {"path": str(path.resolve()), "filename": path.name, "size": path.stat().st_size,
              "format": fmt or parse.detect_format(path.name, None, head), "map": mapping}
    return jobs.create_job(session, organization_id=organization_id, kind=IMPORT, params=params, actor=actor)


def queue_sync(session: Session, *, settings: Settings, organization_id: str, actor: str | None,
               body: SyncIn) -> Job:
    inventory.get_location(session, organization_id=organization_id, location_id=body.location_id)
    job_id = new_id("job")
    if isinstance(body.source, HttpSource):
        source = http_source(settings, job_id=job_id, source=body.source)
    else:
        source = csv_source(session, settings, organization_id=organization_id, source=body.source)
    params = {"location_id": body.location_id, "sync_type": body.sync_type, "source": source}
    return jobs.create_job(session, organization_id=organization_id, kind=SYNC, params=params, actor=actor,
                           job_id=job_id)


def local_sync_job(session: Session, *, settings: Settings, organization_id: str, actor: str | None,
                   location_id: str, sync_type: str, path: Path | None, mapping: str | None,
                   http: HttpSource | None) -> Job:
    """A sync for the CLI: an HTTP feed (the same SSRF guard as the API) or a CSV file anywhere on this machine
    (the operator may read any file the process can; API clients are confined to ``<data_dir>/imports``)."""
    inventory.get_location(session, organization_id=organization_id, location_id=location_id)
    job_id = new_id("job")
    if http is not None:
        source = http_source(settings, job_id=job_id, source=http)
    else:
        try:
            parse.parse_map(mapping)
        except parse.FileProblem as exc:
            raise ValidationFailed.field("$.source.map", exc.message) from None
        if path is None or not path.is_file():
            raise ValidationFailed.field("$.source.path", "no such file")
        source = {"kind": "csv", "path": str(path.resolve()), "map": mapping}
    params = {"location_id": location_id, "sync_type": sync_type, "source": source}
    return jobs.create_job(session, organization_id=organization_id, kind=SYNC, params=params, actor=actor,
                           job_id=job_id)


def http_source(settings: Settings, *, job_id: str, source: HttpSource) -> dict[str, Any]:
    try:
        check_url(source.url, UrlPolicy.from_settings(settings))
    except UnsafeUrl as exc:
        raise ValidationFailed.field("$.source.url", exc.reason) from None
    sealed = None
    if source.headers:  # a POS credential: sealed at rest like webhook secrets, opened only by the runner
        sealed = secretbox.seal(settings.signing_secret, subscription_id=job_id,
                                plaintext=json.dumps(source.headers))
    return {"kind": "http", "url": source.url, "headers_sealed": sealed}


def csv_source(session: Session, settings: Settings, *, organization_id: str, source: CsvSource) -> dict[str, Any]:
    try:
        parse.parse_map(source.map)
    except parse.FileProblem as exc:
        raise ValidationFailed.field("$.source.map", exc.message) from None
    if (source.path is None) == (source.upload_id is None):
        raise ValidationFailed.field("$.source", "give exactly one of path and upload_id")
    if source.upload_id is not None:
        upload = jobs.get_upload(session, organization_id=organization_id, upload_id=source.upload_id)
        return {"kind": "csv", "upload_id": upload.id, "map": source.map}
    return {"kind": "csv", "path": str(sandboxed_path(settings, source.path or "")), "map": source.map}


def imports_dir(settings: Settings) -> Path:
    return (settings.data_dir / "imports").resolve()


def sandboxed_path(settings: Settings, name: str) -> Path:
    """A file inside ``<data_dir>/imports`` (an API client must not read arbitrary server files)."""
    root = imports_dir(settings)
    if "\x00" in name:
        raise ValidationFailed.field("$.source.path", "not a file name")
    candidate = (root / name).resolve()
    if root not in candidate.parents or not candidate.is_file():
        raise ValidationFailed.field("$.source.path", "no such file in the server's imports directory")
    return candidate
