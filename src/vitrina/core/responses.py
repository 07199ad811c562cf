"""The success envelope ``{"success": true, "data": ...}`` and its list form, encoded with orjson.

Routes return these ``Response`` objects directly (FastAPI then skips re-validating the body) and declare
``response_model=Envelope[...]`` so the OpenAPI document still describes the shape exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Generic, Literal, TypeVar

import orjson
from fastapi import Request, Response
from pydantic import BaseModel

from vitrina.core.pagination import Page, Pagination, pagination_body, pagination_headers

T = TypeVar("T")
JSON_MEDIA_TYPE = "application/json"


class Envelope(BaseModel, Generic[T]):
    success: Literal[True] = True
    data: T


class ListEnvelope(BaseModel, Generic[T]):
    success: Literal[True] = True
    data: list[T]
    pagination: Pagination


def _plain(data: Any) -> Any:
    if isinstance(data, BaseModel):
        return data.model_dump(mode="json")
    if isinstance(data, list | tuple):
        return [_plain(item) for item in data]
    return data


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    raise TypeError(f"cannot encode {type(value).__name__}")


def json_bytes(body: Any) -> bytes:
    return orjson.dumps(_plain(body), default=_default, option=orjson.OPT_UTC_Z)


def ok(data: Any, *, status_code: int = 200, etag: int | str | None = None,
       headers: dict[str, str] | None = None) -> Response:
    all_headers = dict(headers or {})
    if etag is not None:
        all_headers["ETag"] = f'"{etag}"'
    body = json_bytes({"success": True, "data": data})
    return Response(body, status_code=status_code, media_type=JSON_MEDIA_TYPE, headers=all_headers)


def created(data: Any, *, etag: int | str | None = None, headers: dict[str, str] | None = None) -> Response:
    return ok(data, status_code=201, etag=etag, headers=headers)


def no_content() -> Response:
    return Response(status_code=204)


def paginated(request: Request, items: Sequence[Any], total: int, page: Page,
              extra: dict[str, Any] | None = None) -> Response:
    body: dict[str, Any] = {"success": True, "data": list(items),
                            "pagination": pagination_body(page, total).model_dump(exclude_none=True)}
    if extra:
        body.update(extra)
    return Response(json_bytes(body), media_type=JSON_MEDIA_TYPE,
                    headers=pagination_headers(request, page, total))


def bare(data: Any, *, status_code: int = 200) -> Response:
    """A body without the envelope, for the few OAuth-style routes the contract defines that way."""
    return Response(json_bytes(data), status_code=status_code, media_type=JSON_MEDIA_TYPE)
