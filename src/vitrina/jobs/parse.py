"""Reading import files and CSV feeds row by row: CSV (UTF-8, with or without BOM) and JSON lines.

Rows come out one at a time with their line number, so a file of any size is read in constant memory. A row
that cannot be read becomes a ``RowError`` (line, field, message) instead of stopping the file; problems with
the whole file (encoding, header) raise ``FileProblem``.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from vitrina.inventory.schemas import ItemCreate

FORMATS = ("csv", "jsonl")
MAX_LINE_BYTES = 1024 * 1024  # one CSV record or JSON line; longer is a broken file, not a big one
csv.field_size_limit(MAX_LINE_BYTES)

# Every name a column may carry for an item field: the field itself and the aliases the API accepts.
FIELD_NAMES: dict[str, str] = {}
for _name, _field in ItemCreate.model_fields.items():
    FIELD_NAMES[_name] = _name
    alias = _field.validation_alias
    for choice in getattr(alias, "choices", ()):
        if isinstance(choice, str):
            FIELD_NAMES[choice.lower()] = _name
FIELD_NAMES.update({"quantity": "quantity", "qty": "quantity"})
ATTRIBUTE_PREFIXES = ("attributes.", "attribute.", "attr.")


class FileProblem(Exception):
    """The file as a whole cannot be read (its encoding, its header)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    field: str | None
    message: str
    external_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "field": self.field, "message": self.message, "external_id": self.external_id}


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    values: dict[str, Any]


def parse_map(text: str | None) -> dict[str, str]:
    """``"Stock No=external_id, Qty=quantity"`` → ``{"stock no": "external_id", "qty": "quantity"}``."""
    mapping: dict[str, str] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        source, sep, target = part.partition("=")
        if not sep or not source.strip() or not target.strip():
            raise FileProblem(f"bad column mapping {part.strip()!r}: write HEADER=field")
        mapping[_normal(source)] = target.strip()
    return mapping


def _normal(header: str) -> str:
    return re.sub(r"\s+", " ", header.strip().lstrip("\ufeff")).lower()


def detect_format(filename: str | None, content_type: str | None, head: bytes) -> str:
    name = (filename or "").lower()
    if name.endswith((".jsonl", ".ndjson", ".json")) or "json" in (content_type or "").lower():
        return "jsonl"
    if name.endswith((".csv", ".txt")):
        return "csv"
    return "jsonl" if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{") else "csv"


def column_field(header: str, mapping: dict[str, str], extra: Iterable[str] = ()) -> str | None:
    """The item field a column fills (``attributes.metal`` for attribute columns); None when unknown."""
    key = _normal(header)
    target = mapping.get(key, key)
    if target in extra:
        return target
    for prefix in ATTRIBUTE_PREFIXES:
        if target.startswith(prefix) and len(target) > len(prefix):
            return "attributes." + target[len(prefix):]
    return FIELD_NAMES.get(target) or FIELD_NAMES.get(target.replace(" ", "_"))


_OTHER_UNICODE_BOMS = ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
                       (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16"))


def encoding_problem(head: bytes) -> str | None:
    """Why the start of a file shows it is not UTF-8 (None when it may well be): checked before a job is queued
    so that a wrong encoding is refused at once; the job still checks every byte as it reads."""
    for bom, name in _OTHER_UNICODE_BOMS:
        if head.startswith(bom):
            return f"the file is {name}; save it as UTF-8 (with or without BOM) and send it again"
    try:
        codecs.getincrementaldecoder("utf-8-sig")(errors="strict").decode(head, final=False)
    except UnicodeDecodeError as exc:
        line = head[:exc.start].count(b"\n") + 1
        return (f"the file is not UTF-8 (undecodable bytes on line {line}); save it as UTF-8 (with or without "
                "BOM) and send it again")
    return None


def text_lines(stream: BinaryIO) -> Iterator[str]:
    """UTF-8 text (a BOM is dropped) with the encoding checked as it is read: the first byte that is not UTF-8
    raises ``FileProblem`` naming its line."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="strict")
    pending = ""
    line = 1
    while True:
        chunk = stream.read(256 * 1024)
        try:
            text = decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as exc:
            bad_line = line + pending.count("\n") + bytes(exc.object[:exc.start]).count(b"\n")
            raise FileProblem(f"the file is not UTF-8 (undecodable bytes on line {bad_line}); "
                              "save it as UTF-8 and import it again") from None
        pending += text
        parts = pending.split("\n")
        pending = parts.pop()
        for part in parts:
            line += 1
            yield part + "\n"
        if len(pending) > MAX_LINE_BYTES:
            raise FileProblem(f"line {line} is longer than {MAX_LINE_BYTES} bytes")
        if not chunk:
            if pending:
                yield pending
            return


def csv_rows(stream: BinaryIO, *, mapping: dict[str, str], required: Iterable[str],
             extra: Iterable[str] = ()) -> Iterator[Row | RowError]:
    lines = text_lines(stream)
    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        raise FileProblem("the file is empty") from None
    except csv.Error as exc:
        raise FileProblem(f"the header line is not valid CSV: {exc}") from None
    fields = _header_fields(header, mapping, required, tuple(extra))
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield RowError(reader.line_num, None, f"not valid CSV: {exc}")
            continue
        if not "".join(cells).strip():  # blank line (one join: any() over the cells cost a tenth of parsing)
            continue
        if len(cells) != len(fields):
            yield RowError(reader.line_num, None, f"expected {len(fields)} cells, found {len(cells)}")
            continue
        row = _csv_values(fields, cells, reader.line_num)
        yield row


def _header_fields(header: list[str], mapping: dict[str, str], required: Iterable[str],
                   extra: tuple[str, ...]) -> list[str]:
    fields: list[str] = []
    unknown: list[str] = []
    for column in header:
        field = column_field(column, mapping, extra)
        if field is None:
            unknown.append(column.strip())
        fields.append(field or "")
    if unknown:
        raise FileProblem(f"unknown columns: {', '.join(repr(u) for u in unknown)}; name them after item fields "
                          "(see docs/jobs.md) or map them with HEADER=field")
    duplicated = sorted({f for f in fields if fields.count(f) > 1})
    if duplicated:
        raise FileProblem(f"more than one column fills {', '.join(duplicated)}")
    missing = [name for name in required if name not in fields]
    if missing:
        raise FileProblem(f"missing required columns: {', '.join(missing)}")
    return fields


def _csv_values(fields: list[str], cells: list[str], line: int) -> Row | RowError:
    values: dict[str, Any] = {}
    attributes: dict[str, Any] = {}
    for field, cell in zip(fields, cells, strict=True):
        if not cell or not (text := cell.strip()):  # an empty cell means "not given", never an empty string
            continue
        if field[:11] != "attributes.":
            if field != "attributes":
                values[field] = text
                continue
            try:
                parsed = json.loads(text)
            except ValueError:
                return RowError(line, "attributes", "must be a JSON object")
            if not isinstance(parsed, dict):
                return RowError(line, "attributes", "must be a JSON object")
            attributes = parsed | attributes
        else:
            attributes[field[11:]] = text
    if attributes:
        values["attributes"] = attributes
    return Row(line, values)


def jsonl_rows(stream: BinaryIO, *, mapping: dict[str, str]) -> Iterator[Row | RowError]:
    for number, text in enumerate(text_lines(stream), start=1):
        if not text.strip():
            continue
        try:
            value = json.loads(text)
        except ValueError as exc:
            yield RowError(number, None, f"not valid JSON: {exc.args[0] if exc.args else exc}")
            continue
        if not isinstance(value, dict):
            yield RowError(number, None, "each line must be a JSON object")
            continue
        yield Row(number, map_keys(value, mapping))


def map_keys(value: dict[str, Any], mapping: dict[str, str]) -> dict[str, Any]:
    """Rename keys through the mapping (JSON names are otherwise taken as they are)."""
    if not mapping:
        return value
    return {mapping.get(_normal(str(key)), key): item for key, item in value.items()}


def rows(stream: BinaryIO, *, fmt: str, mapping: dict[str, str], required: Iterable[str],
         extra: Iterable[str] = ()) -> Iterator[Row | RowError]:
    if fmt == "csv":
        return csv_rows(stream, mapping=mapping, required=required, extra=extra)
    return jsonl_rows(stream, mapping=mapping)


def count_lines(stream: BinaryIO) -> int:
    """Newlines in a stream (an estimate of rows for the progress total; quoted newlines count too)."""
    total = 0
    last = b""
    while chunk := stream.read(1024 * 1024):
        total += chunk.count(b"\n")
        last = chunk
    return total + (1 if last and not last.endswith(b"\n") else 0)


def buffered(raw: io.RawIOBase) -> BinaryIO:
    return io.BufferedReader(raw, buffer_size=1024 * 1024)
