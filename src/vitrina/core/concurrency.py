"""Optimistic concurrency: ``If-Match`` against a resource's version (its ETag)."""

from __future__ import annotations

from fastapi import Request

from vitrina.core.errors import PreconditionFailed


def check_if_match(request: Request, version: int) -> None:
    header = request.headers.get("if-match")
    if header is None or header.strip() == "*":
        return
    candidates = {tag.strip().removeprefix("W/").strip('"') for tag in header.split(",")}
    if str(version) not in candidates:
        raise PreconditionFailed(details={"current_etag": f'"{version}"'})
