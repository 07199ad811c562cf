"""Pagination: ``limit``/``offset`` or ``page``/``limit``, with ``Link`` (RFC 8288) and ``X-Total-Count``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import Depends, Query, Request
from pydantic import BaseModel

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


@dataclass(frozen=True, slots=True)
class Page:
    limit: int
    offset: int
    page: int | None = None  # set when the client paged with ``page``


class Pagination(BaseModel):
    limit: int
    offset: int
    total: int
    page: int | None = None


def page_query(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page (max 200).")] = DEFAULT_LIMIT,
    offset: Annotated[int | None, Query(ge=0, le=10_000_000, description="Items to skip.")] = None,
    page: Annotated[int | None, Query(ge=1, le=1_000_000, description="1-based page; instead of offset.")] = None,
) -> Page:
    if page is not None:
        return Page(limit=limit, offset=(page - 1) * limit, page=page)
    return Page(limit=limit, offset=offset or 0)


PageQuery = Annotated[Page, Depends(page_query)]


def pagination_headers(request: Request, page: Page, total: int) -> dict[str, str]:
    links = {"first": 0}
    if page.offset > 0:
        links["prev"] = max(page.offset - page.limit, 0)
    if page.offset + page.limit < total:
        links["next"] = page.offset + page.limit
    if total > 0:
        links["last"] = ((total - 1) // page.limit) * page.limit
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in ("offset", "page", "limit")]
    # The path as received is decoded (it may hold any Unicode); a header must be ASCII, so encode it again.
    base = str(request.url.replace(query="", path=quote(request.url.path)))

    def url(offset: int) -> str:
        if page.page is not None:
            extra = [("page", str(offset // page.limit + 1)), ("limit", str(page.limit))]
        else:
            extra = [("limit", str(page.limit)), ("offset", str(offset))]
        return f"{base}?{urlencode(params + extra)}"

    link = ", ".join(f'<{url(offset)}>; rel="{rel}"' for rel, offset in links.items())
    return {"X-Total-Count": str(total), "Link": link}


def pagination_body(page: Page, total: int) -> Pagination:
    return Pagination(limit=page.limit, offset=page.offset, total=total, page=page.page)
