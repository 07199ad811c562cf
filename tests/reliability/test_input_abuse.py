"""Input abuse: hostile input in every position the OpenAPI document exposes is refused with a 4xx or stored
exactly as sent (never evaluated, never a 5xx).

Positions: raw request bodies of every JSON write route (malformed, oversized, deeply nested, invalid UTF-8,
non-finite numbers, wrong media types), every free-text field of every request body (SQL and template
injection, NUL, very long strings, path traversal, spreadsheet formulas, odd Unicode), every path parameter and
every text query parameter; plus upload names, decompression bombs, CSV exports and SSRF targets wherever
routes that take files, export CSV or fetch URLs exist.
"""

from __future__ import annotations

import csv
import functools
import io
import struct
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.reliability import figures
from tests.reliability.apimodel import ApiDoc, Operation, prefix_for_name
from tests.reliability.conftest import operations
from tests.reliability.dbstate import changed_tables, digest
from tests.reliability.population import Tenant, new_org, populate
from vitrina.app import create_app
from vitrina.config import Settings
from vitrina.core.ids import new_id
from vitrina.db.session import Database

HOSTILE_STRINGS = [
    "' OR '1'='1' --", "'; DROP TABLE organizations; --", '" OR 1=1; SELECT pg_sleep(5) --', "\\'; --",
    "{{7*7}}", "${7*7}", "<%= 7*7 %>", "{% for x in ().__class__.__base__.__subclasses__() %}{{x}}{% endfor %}",
    "#{7*7}", "<script>alert(1)</script>", "../../../../etc/passwd", "..\\..\\..\\windows\\win.ini",
    "a\x00b", "=HYPERLINK(\"https://evil.example\",\"x\")", "@SUM(1+1)*cmd|' /C calc'!A0",
    "\u202eGNIR\u202c \U0001f48d Z\u0335\u0321a\u0336l\u0334g\u0337o", "\ud7ff\ufffe\uffff", "   ",
    "A" * 100_000,
]
# In URLs: the same, but "very long" is 8 KB (uvicorn and most proxies refuse longer request lines anyway).
URL_STRINGS = [*HOSTILE_STRINGS[:-1], "A" * 8000, "%2e%2e%2f%2e%2e%2f", "..", "."]
RAW_BODIES: dict[str, tuple[bytes, str]] = {
    "invalid UTF-8": (b'{"name": "\xff\xfe\xfd"}', "application/json"),
    "NUL byte in JSON text": (b'{"name": "a\x00b"}', "application/json"),
    "deeply nested arrays": (b"[" * 100_000 + b"]" * 100_000, "application/json"),
    "deeply nested objects": (b'{"a":' * 50_000 + b"1" + b"}" * 50_000, "application/json"),
    "huge integer": (b'{"quantity": ' + b"9" * 5000 + b"}", "application/json"),
    "non-finite numbers": (b'{"quantity": NaN, "amount": Infinity, "price": -1e999}', "application/json"),
    "lone surrogate": (b'{"name": "\\ud800"}', "application/json"),
    "truncated JSON": (b'{"name": "abc', "application/json"),
    "JSON array": (b"[]", "application/json"),
    "JSON scalar": (b'"x"', "application/json"),
    "empty body": (b"", "application/json"),
    "XML": (b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><x>&e;</x>",
            "application/xml"),
    "form data": (b"name=x&code=y", "application/x-www-form-urlencoded"),
}
OVERSIZE = 10 * 1024 * 1024 + 1
SSRF_TARGETS = [
    "http://169.254.169.254/latest/meta-data/", "https://169.254.169.254/latest/meta-data/",
    "https://127.0.0.1/hook", "https://localhost/hook", "https://[::1]/hook", "https://0.0.0.0/hook",
    "https://10.0.0.1/hook", "https://172.16.0.1/hook", "https://192.168.1.1/hook", "https://100.64.0.1/hook",
    "https://2130706433/hook", "https://0x7f000001/hook", "https://127.1/hook", "https://[::ffff:127.0.0.1]/hook",
    "https://metadata.google.internal/computeMetadata/v1/", "file:///etc/passwd", "gopher://127.0.0.1:6379/_PING",
    "http://example.com/hook", "https://0177.0.0.1/hook", "https://[::ffff:7f00:1]/hook", "https://[fd00::1]/hook",
    "https://[fe80::1]/hook", "https://user:pass@127.0.0.1/hook", "https://localhost./hook", "https://LOCALHOST/hook",
    "https://ip6-localhost/hook", "https://169.254.169.254.nip.io/latest/meta-data/", "https://[::]/hook",
]


def _is_text(schema: dict[str, Any]) -> bool:
    options = schema.get("anyOf", [schema])
    return any(o.get("type") == "string" and "enum" not in o and "format" not in o for o in options)


JSON_WRITE_ROUTES = operations(lambda op: op.is_api and op.is_write and op.json_body_schema is not None)
PATH_ROUTES = operations(lambda op: op.is_api and bool(op.path_params))
QUERY_ROUTES = operations(lambda op: op.method == "GET" and any(
    _is_text(p.get("schema", {})) for p in op.parameters("query")))
UPLOAD_ROUTES = operations(lambda op: op.is_api and "multipart/form-data" in op.body_media_types)
EXPORT_ROUTES = operations(lambda op: op.is_api and op.method == "GET" and op.path.rstrip("/").endswith("/export"))


@pytest.fixture(scope="module")
def victim(client: TestClient, api_doc: ApiDoc, database: Database) -> Tenant:
    tenant = Tenant(org=new_org(database, "Abused Jewelers"), marker=f"ABUSE{uuid.uuid4().hex[:6].upper()}")
    populate(client, api_doc, tenant)
    return tenant


@pytest.fixture(scope="module")
def raw_client(app: FastAPI) -> Iterator[TestClient]:
    """Reports a 5xx as a response (to be asserted on) rather than raising the server's exception."""
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def _path_values(operation: Operation, tenant: Tenant) -> dict[str, str]:
    values = tenant.fill_path(operation)
    if values is None:
        values = {p: new_id(prefix_for_name(p) or "itm") for p in operation.path_params}
    return values


def _assert_4xx(status: int, what: str, text: str) -> None:
    assert 400 <= status < 500, f"{what} -> {status}: {text[:300]}"


@pytest.mark.parametrize("operation", JSON_WRITE_ROUTES)
def test_raw_bodies_are_refused(operation: Operation, raw_client: TestClient, victim: Tenant,
                                database: Database) -> None:
    url = operation.url(_path_values(operation, victim))
    before = digest(database.engine, [victim.org.id])
    for name, (body, media_type) in RAW_BODIES.items():
        if name == "empty body" and not operation.body_required:
            continue
        response = raw_client.request(operation.method, url, content=body,
                                      headers=victim.headers | {"content-type": media_type})
        figures.count("abuse.inputs")
        _assert_4xx(response.status_code, name, response.text)
    oversized = raw_client.request(operation.method, url, content=b" " * OVERSIZE,
                                   headers=victim.headers | {"content-type": "application/json"})
    figures.count("abuse.inputs")
    assert oversized.status_code == 413, oversized.text[:300]
    assert changed_tables(before, digest(database.engine, [victim.org.id])) == []


def test_oversized_chunked_body_is_413(raw_client: TestClient, victim: Tenant) -> None:
    """A body without Content-Length is counted as it streams in."""

    def chunks() -> Iterator[bytes]:
        for _ in range(11):
            yield b" " * (1024 * 1024)

    response = raw_client.post("/api/v1/locations", content=chunks(),
                               headers=victim.headers | {"content-type": "application/json"})
    figures.count("abuse.inputs")
    assert response.status_code == 413


def _text_positions(node: Any, marker: str, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Where the synthesiser put free text (its marker), i.e. fields a user types into."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _text_positions(value, marker, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _text_positions(value, marker, (*path, index))
    elif isinstance(node, str) and marker in node:
        yield path


def _set(body: Any, path: tuple[Any, ...], value: str) -> None:
    for part in path[:-1]:
        body = body[part]
    body[path[-1]] = value


def _echoed(body: Any, key: str) -> Iterator[str]:
    """The resource's own field ``key`` in a success body (not a same-named field of some nested object)."""
    data = body.get("data", body) if isinstance(body, dict) else None
    if isinstance(data, dict) and isinstance(data.get(key), str):
        yield data[key]


def _send_hostile_strings(operation: Operation, client: TestClient, api_doc: ApiDoc, victim: Tenant, *,
                          one_at_a_time: bool) -> None:
    synth = victim.synthesizer(api_doc)
    positions = list(_text_positions(synth.body(operation, every_field=True), victim.marker))
    if not positions:
        pytest.skip("the body has no free-text field")
    groups = [[p] for p in positions] if one_at_a_time else [positions]
    for group in groups:
        for hostile in HOSTILE_STRINGS:
            body = synth.body(operation, every_field=True)  # fresh unique values: no clash with earlier rows
            for position in group:
                _set(body, position, hostile)
            response = client.request(operation.method, operation.url(_path_values(operation, victim)), json=body,
                                      headers=victim.headers)
            figures.count("abuse.inputs")
            assert response.status_code < 500, f"{group} = {hostile[:40]!r} -> {response.text[:300]}"
            if response.status_code < 300 and response.content:
                _assert_stored_verbatim(response.json(), group, hostile)


@pytest.mark.parametrize("operation", JSON_WRITE_ROUTES)
def test_hostile_strings_in_all_text_fields(operation: Operation, raw_client: TestClient, api_doc: ApiDoc,
                                            victim: Tenant) -> None:
    _send_hostile_strings(operation, raw_client, api_doc, victim, one_at_a_time=False)


@pytest.mark.slow
@pytest.mark.parametrize("operation", JSON_WRITE_ROUTES)
def test_hostile_strings_in_each_text_field(operation: Operation, raw_client: TestClient, api_doc: ApiDoc,
                                            victim: Tenant) -> None:
    """One field at a time, so a field refused for its own rules does not shield the others."""
    _send_hostile_strings(operation, raw_client, api_doc, victim, one_at_a_time=True)


def _assert_stored_verbatim(body: Any, group: list[tuple[Any, ...]], hostile: str) -> None:
    for position in group:
        key = position[-1]
        if not isinstance(key, str):
            continue
        for echoed in _echoed(body, key):
            assert echoed in (hostile, hostile.strip()), f"{key} stored as {echoed[:60]!r}, sent {hostile[:60]!r}"


@pytest.fixture(scope="module")
def bystander(client: TestClient, api_doc: ApiDoc, database: Database) -> Tenant:
    """An organization holding only ordinary data, so a hostile id that finds something is an injection."""
    tenant = Tenant(org=new_org(database, "Bystander Jewelers"), marker=f"PLAIN{uuid.uuid4().hex[:6].upper()}")
    populate(client, api_doc, tenant)
    return tenant


@pytest.mark.parametrize("operation", PATH_ROUTES)
def test_hostile_path_parameters(operation: Operation, raw_client: TestClient, bystander: Tenant) -> None:
    for param in operation.path_params:
        for hostile in URL_STRINGS:
            values = _path_values(operation, bystander) | {param: quote(hostile, safe="")}
            response = raw_client.request(operation.method, operation.url(values), json={},
                                          headers=bystander.headers)
            figures.count("abuse.inputs")
            assert response.status_code < 500, f"{{{param}}} = {hostile[:40]!r} -> {response.text[:300]}"
            if hostile not in (".", ".."):  # those two are path segments: the URL then names another route
                assert response.status_code >= 400, f"{{{param}}} = {hostile[:40]!r} found something"


@pytest.mark.parametrize("operation", QUERY_ROUTES)
def test_hostile_query_parameters(operation: Operation, raw_client: TestClient, bystander: Tenant) -> None:
    values = _path_values(operation, bystander)
    for param in operation.parameters("query"):
        if not _is_text(param.get("schema", {})):
            continue
        for hostile in URL_STRINGS:
            response = raw_client.get(operation.url(values), params={param["name"]: hostile},
                                      headers=bystander.headers)
            figures.count("abuse.inputs")
            assert response.status_code < 500, f"?{param['name']}={hostile[:40]!r} -> {response.text[:300]}"


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(width: int, height: int, rows: bytes) -> bytes:
    """A greyscale PNG whose IDAT is ``rows`` (already zlib-compressed)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", rows)
            + _png_chunk(b"IEND", b""))


def _tiny_png() -> bytes:
    return _png(2, 2, zlib.compress(b"\x00\x80\x80" * 2))


@functools.cache
def _bomb() -> bytes:
    """A decompression bomb: 400 megapixels (past Pillow's refusal threshold) in about 400 KB."""
    side = 20_000
    compressor = zlib.compressobj(6)
    block = b"\x00" * ((side + 1) * 500)
    rows = b"".join(compressor.compress(block) for _ in range(side // 500)) + compressor.flush()
    return _png(side, side, rows)


def _file_fields(operation: Operation) -> list[str]:
    body = operation.doc.resolve(operation.spec.get("requestBody", {}))
    schema = operation.doc.resolve(body["content"]["multipart/form-data"].get("schema", {}))
    return [name for name, prop in schema.get("properties", {}).items()
            if operation.doc.resolve(prop).get("format") == "binary"
            or operation.doc.resolve(prop).get("contentMediaType")] or ["file"]


@pytest.mark.parametrize("operation", UPLOAD_ROUTES)
def test_upload_names_and_bombs(operation: Operation, raw_client: TestClient, victim: Tenant,
                                settings: Settings) -> None:
    values = _path_values(operation, victim)
    escape = Path("/tmp") / f"vitrina-escape-{uuid.uuid4().hex}.png"
    names = [f"../../../../../../..{escape}", str(escape), "..\\..\\evil.png", "a\x00.png", "x" * 1000 + ".png"]
    for field_name in _file_fields(operation):
        for name in names:
            response = raw_client.post(operation.url(values), headers=victim.headers,
                                       files={field_name: (name, _tiny_png(), "image/png")})
            figures.count("abuse.inputs")
            assert response.status_code < 500, f"upload named {name[:40]!r} -> {response.text[:300]}"
        assert not escape.exists(), "an upload name escaped the media directory"
        response = raw_client.post(operation.url(values), headers=victim.headers,
                                   files={field_name: ("bomb.png", _bomb(), "image/png")})
        figures.count("abuse.inputs")
        assert response.status_code < 500, f"decompression bomb -> {response.text[:300]}"
    for path in settings.media_path.rglob("*") if settings.media_path.exists() else []:
        assert settings.media_path.resolve() in path.resolve().parents, f"{path} is outside the media directory"


_FORMULA_START = ("=", "+", "@", "\t", "\r")


@pytest.mark.parametrize("operation", EXPORT_ROUTES)
def test_csv_exports_neutralise_formulas(operation: Operation, client: TestClient, api_doc: ApiDoc,
                                         database: Database) -> None:
    tenant = Tenant(org=new_org(database, "Formula Jewelers"), marker="=HYPERLINK(1)+")
    populate(client, api_doc, tenant)
    values = tenant.fill_path(operation) or {}
    response = client.get(operation.url(values), params={"format": "csv"}, headers=tenant.headers)
    assert response.status_code == 200, response.text[:300]
    cells = [cell for row in csv.reader(io.StringIO(response.text)) for cell in row]
    figures.count("abuse.csv_cells_checked", len(cells))
    dangerous = [cell for cell in cells if cell.startswith(_FORMULA_START)]
    assert not dangerous, f"formula cells exported as is: {dangerous[:5]}"


@pytest.fixture(scope="module")
def strict_client(settings: Settings) -> Iterator[TestClient]:
    """The service as an operator deploys it: no SSRF allow-list, https only."""
    strict = settings.model_copy(update={"webhook_allow_hosts": "", "webhook_allow_http": False})
    with TestClient(create_app(strict), raise_server_exceptions=False) as test_client:
        yield test_client


def _url_positions(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _url_positions(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _url_positions(value, (*path, index))
    elif isinstance(node, str) and node.startswith("https://127.0.0.1:9/"):
        yield path


# Links the service stores and shows but never fetches itself (a product's page and picture links are opened by
# the shopper's browser): refusing private addresses there would protect nothing. Everything else a body calls a
# URL is assumed to be fetched by the server, and must refuse every SSRF target.
DISPLAY_ONLY_LINKS = {("/api/v1/products", "url"), ("/api/v1/products", "image_url")}


def _is_display_only(operation: Operation, position: tuple[Any, ...]) -> bool:
    return any(operation.path.startswith(prefix) and position[-1] == name for prefix, name in DISPLAY_ONLY_LINKS)


def _json_path(position: tuple[Any, ...]) -> str:
    return "$" + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in position)


def _error_paths(body: Any) -> set[str]:
    details = body.get("error", {}).get("details") or {} if isinstance(body, dict) else {}
    errors = details.get("errors", []) if isinstance(details, dict) else []
    return {str(error.get("path")) for error in errors if isinstance(error, dict)}


@pytest.mark.parametrize("operation", JSON_WRITE_ROUTES)
def test_ssrf_targets_are_refused(operation: Operation, strict_client: TestClient, api_doc: ApiDoc,
                                  victim: Tenant, database: Database) -> None:
    """Each target is refused with a 4xx whose error names the URL field (so a refusal for some other reason
    in the body cannot pass for an SSRF refusal), and nothing is written (no webhook, no queued sync job)."""
    synth = victim.synthesizer(api_doc)
    positions = [p for p in _url_positions(synth.body(operation, every_field=True))
                 if not _is_display_only(operation, p)]
    if not positions:
        pytest.skip("the body takes no URL the server fetches")
    values = _path_values(operation, victim)
    for position in positions:
        for target in SSRF_TARGETS:
            body = synth.body(operation, every_field=True)
            _set(body, position, target)
            before = digest(database.engine, [victim.org.id])
            response = strict_client.request(operation.method, operation.url(values), json=body,
                                             headers=victim.headers)
            figures.count("abuse.ssrf_targets")
            _assert_4xx(response.status_code, f"{position} = {target}", response.text)
            assert _json_path(position) in _error_paths(response.json()), (
                f"{position} = {target}: refused, but not for the URL: {response.text[:300]}")
            assert changed_tables(before, digest(database.engine, [victim.org.id])) == []


def _free_form_positions(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Where the synthesiser put an empty object: a free-form JSON field (metadata, attributes, address...)."""
    if isinstance(node, dict):
        if not node and path:
            yield path
        for key, value in node.items():
            yield from _free_form_positions(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _free_form_positions(value, (*path, index))


# Found by the slow fuzzer on PostgreSQL (POST /passports with such metadata, then GET /passports: 500): JSONB
# gives 8.7e62 back as a 63-digit integer. Refused at the door, or stored and still readable.
HUGE_NUMBERS = [8.77803925925076e62, -2.5684634454230226e152, 1e300, 2.0**63]


@pytest.mark.parametrize("operation", JSON_WRITE_ROUTES)
def test_huge_numbers_in_free_form_json_never_break_reads(operation: Operation, raw_client: TestClient,
                                                          api_doc: ApiDoc, victim: Tenant) -> None:
    synth = victim.synthesizer(api_doc)
    positions = list(_free_form_positions(synth.body(operation, every_field=True)))
    if not positions:
        pytest.skip("the body has no free-form object")
    for number in HUGE_NUMBERS:
        body = synth.body(operation, every_field=True)
        for position in positions:
            target = body
            for part in position:
                target = target[part]
            target["n"] = number
        response = raw_client.request(operation.method, operation.url(_path_values(operation, victim)),
                                      json=body, headers=victim.headers)
        figures.count("abuse.inputs")
        assert response.status_code < 500, f"{positions} = {number} -> {response.text[:300]}"
        if response.status_code < 300:
            read_back = _read_back(raw_client, operation, victim, response)
            assert read_back is None or read_back < 500, f"stored {number}, then reading it -> {read_back}"


def _read_back(client: TestClient, operation: Operation, victim: Tenant, response: Any) -> int | None:
    """The status of reading the collection the write landed in (None when it has no list route)."""
    collection = operation.path.split("/{")[0]
    lister = operation.doc.find("GET", collection)
    if lister is None or not lister.is_list:
        return None
    return int(client.get(collection, headers=victim.headers).status_code)
