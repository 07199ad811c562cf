"""The audit trail, readable by admins: who changed what, when, and with which outcome.

The rows are written by ``vitrina.core.routing`` in the same transaction as every successful write request, so
a change and its audit entry commit together. This module only reads them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from vitrina.core.auth import AdminPrincipal
from vitrina.core.models import AuditEntry
from vitrina.core.pagination import Page, PageQuery
from vitrina.core.responses import ListEnvelope, paginated
from vitrina.core.routing import api_router
from vitrina.db.session import DbSession

router = api_router(tags=["audit"])

WriteMethod = Literal["POST", "PUT", "PATCH", "DELETE"]


class AuditEntryOut(BaseModel):
    id: int = Field(description="Increasing sequence number of the entry.")
    actor: str | None = Field(description="The API key (or user) that made the change.")
    method: str
    path: str
    status_code: int
    request_id: str | None = Field(description="The request's X-Request-Id, to find it in the logs.")
    created_at: datetime

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditEntryOut:
        return cls(id=entry.id, actor=entry.actor, method=entry.method, path=entry.path,
                   status_code=entry.status_code, request_id=entry.request_id, created_at=entry.created_at)


@router.get("/audit-log", response_model=ListEnvelope[AuditEntryOut], summary="The audit trail (admin)",
            description="Every successful write request of the organization, newest first. Admin keys only.")
def list_audit_log(
    request: Request, session: DbSession, principal: AdminPrincipal, page: PageQuery,
    actor: Annotated[str | None, Query(max_length=64, description="Only this key id.")] = None,
    method: Annotated[WriteMethod | None, Query(description="Only this HTTP method.")] = None,
    path_prefix: Annotated[str | None, Query(max_length=500, description="Only paths starting so.")] = None,
    since: Annotated[datetime | None, Query(description="Only entries at or after this instant.")] = None,
    until: Annotated[datetime | None, Query(description="Only entries before this instant.")] = None,
) -> Response:
    query = select(AuditEntry).where(AuditEntry.organization_id == principal.organization_id)
    if actor is not None:
        query = query.where(AuditEntry.actor == actor)
    if method is not None:
        query = query.where(AuditEntry.method == method)
    if path_prefix:
        query = query.where(AuditEntry.path.startswith(path_prefix, autoescape=True))
    if since is not None:
        query = query.where(AuditEntry.created_at >= since)
    if until is not None:
        query = query.where(AuditEntry.created_at < until)
    entries, total = _page_of(session, query, page)
    return paginated(request, [AuditEntryOut.of(entry) for entry in entries], total, page)


def _page_of(session: Session, query: Select[Any], page: Page) -> tuple[list[AuditEntry], int]:
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(AuditEntry.id.desc()).limit(page.limit).offset(page.offset))
    return list(rows), total
