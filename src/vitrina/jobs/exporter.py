"""Streaming export of items as CSV or JSON lines, page by page in one read transaction.

Only one page of items is in memory at a time. Cells a spreadsheet would run as a formula (starting with
``= + - @``, a tab or a carriage return) are prefixed with an apostrophe, OWASP's advice for CSV injection;
JSON lines are data for programs and are left exact.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy.orm import Session

from vitrina.core.pagination import Page
from vitrina.db.session import Database
from vitrina.inventory import service as inventory
from vitrina.inventory.schemas import item_dict

PAGE_SIZE = 1000
COLUMNS = ("id", "external_id", "sku", "name", "category", "description", "tracking", "status", "quantity",
           "reserved_quantity", "available_quantity", "low_stock_threshold", "location_id", "room_type", "price",
           "cost", "currency", "supplier_id", "certification", "cert_number", "product_id", "configuration_id",
           "attributes", "created_at", "updated_at", "version")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}


def neutralise(cell: str) -> str:
    """A cell a spreadsheet will show as text, never evaluate."""
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    return str(value)


def csv_line(values: list[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([neutralise(_cell(value)) for value in values])
    return buffer.getvalue()


def items(session: Session, *, organization_id: str, filters: inventory.ItemFilters) -> Iterator[dict[str, Any]]:
    """Every matching item as the API shows it, one page at a time."""
    offset = 0
    while True:
        page, _total = inventory.list_items(session, organization_id=organization_id, filters=filters,
                                            page=Page(limit=PAGE_SIZE, offset=offset))
        held = inventory.reserved_now(session, page)
        for item in page:
            yield item_dict(item, held.get(item.id))
        if len(page) < PAGE_SIZE:
            return
        offset += PAGE_SIZE
        session.expunge_all()  # keep memory flat: the identity map would otherwise hold every item


def stream(database: Database, *, organization_id: str, filters: inventory.ItemFilters,
           fmt: str) -> Iterator[bytes]:
    """The export's body. One read transaction (a consistent snapshot on PostgreSQL)."""
    session = database.session(write=False, organization_id=organization_id)
    try:
        if database.engine.dialect.name == "postgresql":
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        if fmt == "csv":
            yield ("\ufeff" + csv_line(list(COLUMNS))).encode()  # a BOM so spreadsheets read UTF-8
        buffer: list[str] = []
        for item in items(session, organization_id=organization_id, filters=filters):
            if fmt == "csv":
                buffer.append(csv_line([item.get(column) for column in COLUMNS]))
            else:
                buffer.append(json.dumps(item, ensure_ascii=False, separators=(",", ":"), default=str) + "\n")
            if len(buffer) >= 200:
                yield "".join(buffer).encode()
                buffer = []
        if buffer:
            yield "".join(buffer).encode()
    finally:
        session.rollback()
        session.close()
