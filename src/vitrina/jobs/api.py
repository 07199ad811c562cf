"""Jobs routes, and the inventory routes that run as jobs or stream: import, export and POS sync.

Thin: parse, call the service, shape the response. Work that takes long (imports, syncs) is queued as a job
(202 with the job and a ``Location`` header); ``vitrina worker`` runs it and ``GET /jobs/{id}`` follows it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import File, Form, Query, Request, Response, UploadFile
from fastapi.responses import StreamingResponse

from vitrina.core.auth import ReadPrincipal, WritePrincipal
from vitrina.core.responses import Envelope, created, ok
from vitrina.core.routing import api_router
from vitrina.core.time import as_utc, to_rfc3339
from vitrina.db.session import DbSession
from vitrina.inventory import service as inventory
from vitrina.inventory.schemas import RoomType
from vitrina.jobs import exporter, intake
from vitrina.jobs import service as jobs
from vitrina.jobs.schemas import JobOut, SyncIn, UploadOut

router = api_router(tags=["jobs"])
_PRINTABLE = r"^[^\x00]*$"
_ACCEPTED = "Queued: follow it with `GET /jobs/{id}` (also in the `Location` header)."


def _accepted(job: Any) -> Response:
    return ok(jobs.job_dict(job), status_code=202, headers={"Location": f"/api/v1/jobs/{job.id}"})


@router.get("/jobs/{job_id}", response_model=Envelope[JobOut], summary="Get a job",
            description="Status (`queued`, `running`, `succeeded`, `failed`), progress, row errors (line and "
                        "field) and the result. A failed import says how far it got: rows up to "
                        "`result.applied_through_line` were applied, except the rows listed in `errors`.")
def get_job(job_id: str, session: DbSession, principal: ReadPrincipal) -> Response:
    job = jobs.get_job(session, organization_id=principal.organization_id, job_id=job_id)
    return ok(jobs.job_dict(job))


@router.post("/jobs/uploads", status_code=201, response_model=Envelope[UploadOut], summary="Upload a file",
             description="Store a file (up to 50 MiB) for a later job, e.g. a CSV sync source "
                         "(`{\"kind\": \"csv\", \"upload_id\"}`).")
def upload(session: DbSession, principal: WritePrincipal,
           file: Annotated[UploadFile, File(description="The file")]) -> Response:
    stored = jobs.store_upload(session, organization_id=principal.organization_id, filename=file.filename,
                               content_type=file.content_type, stream=file.file)
    return created({"id": stored.id, "filename": stored.filename, "size": stored.size,
                    "created_at": to_rfc3339(stored.created_at)})


@router.post("/inventory/import", tags=["inventory"], status_code=202, response_model=Envelope[JobOut],
             summary="Import items from a file (a job)",
             description="Multipart field `file`: CSV whose headers are item field names (`external_id`, `sku`, "
                         "`name` required; `attributes.<key>` columns fill attributes) or JSON lines (one item "
                         "object per line). UTF-8, with or without BOM. Rows are matched on `external_id`: new "
                         "ones are received (`RECEIVED` movement), existing ones updated (a changed quantity is "
                         "an `AUDIT` movement), so importing a file twice changes nothing the second time. "
                         "Each bad row is reported by line and field; the others are applied in batches. "
                         + _ACCEPTED)
def import_items(
    request: Request, session: DbSession, principal: WritePrincipal,
    file: Annotated[UploadFile, File(description="The CSV or JSON-lines file")],
    format: Annotated[Literal["csv", "jsonl"] | None, Form(description="Default: from the file name or content.")]
    = None,
    map: Annotated[str | None, Form(max_length=2000, pattern=_PRINTABLE,
                                    description="Other headers: `Stock No=external_id,Qty=quantity`.")] = None,
) -> Response:
    job = intake.queue_import(session, organization_id=principal.organization_id, actor=principal.actor,
                              filename=file.filename, content_type=file.content_type, stream=file.file, fmt=format,
                              mapping=map)
    return _accepted(job)


@router.post("/inventory/sync", tags=["inventory"], status_code=202, response_model=Envelope[JobOut],
             summary="Sync a location with a POS feed (a job)",
             description="`source`: `{\"kind\": \"http\", \"url\", \"headers\"}` (a JSON list of `{external_id, "
                         "sku, quantity, ...}`, pages followed by `Link: rel=next`) or `{\"kind\": \"csv\", "
                         "\"upload_id\" | \"path\"}`. `full` makes the location match the feed with `AUDIT` "
                         "movements (items missing from it go to 0, new ones are received); `incremental` "
                         "applies the entries since the last cursor. All or nothing: a sync that fails leaves "
                         "the location as it was. Emits `inventory.sync.completed`. " + _ACCEPTED)
def sync_location(body: SyncIn, request: Request, session: DbSession, principal: WritePrincipal) -> Response:
    job = intake.queue_sync(session, settings=request.app.state.settings, organization_id=principal.organization_id,
                            actor=principal.actor, body=body)
    return _accepted(job)


Status = Literal["active", "reserved", "sold", "repair", "memo", "archived"]
_EXPORT_CONTENT = {"text/csv": {"schema": {"type": "string"}},
                   "application/x-ndjson": {"schema": {"type": "string"}}}


@router.get("/inventory/export", tags=["inventory"], response_class=StreamingResponse,
            responses={200: {"description": "The items, streamed.", "content": _EXPORT_CONTENT}},
            summary="Export items (CSV or JSON lines)",
            description="The list's filters; streamed page by page. CSV cells that a spreadsheet would evaluate "
                        "(starting with `= + - @`, tab or CR) are prefixed with `'`.")
def export_items(
    request: Request, principal: ReadPrincipal, session: DbSession,
    format: Literal["csv", "jsonl"] = "csv",
    category: Annotated[str | None, Query(max_length=100, pattern=_PRINTABLE)] = None,
    status: Status | None = None,
    location_id: Annotated[str | None, Query(max_length=32, pattern=_PRINTABLE)] = None,
    room_type: RoomType | None = None,
    low_stock: bool | None = None,
    sku: Annotated[str | None, Query(max_length=100, pattern=_PRINTABLE)] = None,
    q: Annotated[str | None, Query(max_length=200, pattern=_PRINTABLE)] = None,
    product_id: Annotated[str | None, Query(max_length=100, pattern=_PRINTABLE)] = None,
    tracking: Literal["serialized", "bulk"] | None = None,
    updated_since: datetime | None = None,
) -> Response:
    filters = inventory.ItemFilters(
        category=category, status=status, location_id=location_id, room_type=room_type, low_stock=low_stock,
        sku=sku, q=q, product_id=product_id, tracking=tracking,
        updated_since=as_utc(updated_since) if updated_since else None, sort="created_at")
    body = exporter.stream(request.app.state.db, organization_id=principal.organization_id, filters=filters,
                           fmt=format)
    extension = "csv" if format == "csv" else "jsonl"
    return StreamingResponse(body, media_type=exporter.MEDIA_TYPES[format],
                             headers={"Content-Disposition": f'attachment; filename="inventory.{extension}"'})
