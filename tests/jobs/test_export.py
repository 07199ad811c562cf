"""GET /inventory/export: CSV and JSON lines, the list's filters, formula cells neutralised."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from fastapi.testclient import TestClient

from tests.jobs.conftest import INV, Importer, csv_bytes
from tests.support import OrgContext
from vitrina.jobs.exporter import neutralise


def test_csv_export_round_trips_and_neutralises_formulas(client: TestClient, org: OrgContext,
                                                         import_file: Importer) -> None:
    rows: list[list[Any]] = [["external_id", "sku", "name", "description", "category", "tracking", "quantity"],
            ["E-1", "S1", "=HYPERLINK(\"http://evil\")", "+1 sensible", "rings", "bulk", 3],
            ["E-2", "S2", "@SUM(A1)", "-2 minus", "rings", "bulk", 0],
            ["E-3", "S3", "Plain, with comma", "tab\tinside", "chains", "bulk", 7]]
    assert import_file(csv_bytes(rows))["result"]["created"] == 3
    response = client.get(f"{INV}/export", params={"format": "csv"}, headers=org.headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    table = list(csv.DictReader(io.StringIO(response.text.removeprefix("\ufeff"))))
    by_id = {row["external_id"]: row for row in table}
    assert set(by_id) == {"E-1", "E-2", "E-3"}
    assert by_id["E-1"]["name"] == "'=HYPERLINK(\"http://evil\")" and by_id["E-1"]["description"] == "'+1 sensible"
    assert by_id["E-2"]["name"] == "'@SUM(A1)" and by_id["E-2"]["description"] == "'-2 minus"
    assert by_id["E-3"]["name"] == "Plain, with comma" and by_id["E-3"]["quantity"] == "7"
    cells = [cell for row in csv.reader(io.StringIO(response.text)) for cell in row]
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]


def test_jsonl_export_is_exact_and_filtered(client: TestClient, org: OrgContext, other_org: OrgContext,
                                            import_file: Importer) -> None:
    rows: list[list[Any]] = [["external_id", "sku", "name", "category", "tracking", "quantity"],
            ["F-1", "S1", "=1+1", "rings", "bulk", 3], ["F-2", "S2", "Chain", "chains", "bulk", 1]]
    import_file(csv_bytes(rows))
    response = client.get(f"{INV}/export", params={"format": "jsonl", "category": "rings"}, headers=org.headers)
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert [(x["external_id"], x["name"], x["quantity"]) for x in lines] == [("F-1", "=1+1", 3)]
    other = client.get(f"{INV}/export", params={"format": "jsonl"}, headers=other_org.headers)
    assert other.status_code == 200 and other.text == ""


def test_export_pages_through_many_items(client: TestClient, org: OrgContext, import_file: Importer) -> None:
    rows: list[list[Any]] = [["external_id", "sku", "name", "tracking", "quantity"]]
    rows += [[f"P-{n:05}", f"S-{n}", f"Piece {n}", "bulk", 1] for n in range(2500)]
    assert import_file(csv_bytes(rows))["result"]["created"] == 2500
    response = client.get(f"{INV}/export", params={"format": "jsonl"}, headers=org.headers)
    ids = [json.loads(line)["external_id"] for line in response.text.splitlines()]
    assert len(ids) == 2500 and len(set(ids)) == 2500


def test_export_refuses_bad_parameters_and_credentials(client: TestClient, org: OrgContext) -> None:
    assert client.get(f"{INV}/export", params={"format": "xlsx"}, headers=org.headers).status_code == 422
    assert client.get(f"{INV}/export", params={"status": "lost"}, headers=org.headers).status_code == 422
    assert client.get(f"{INV}/export").status_code == 401
    assert client.get(f"{INV}/export", headers=org.make_headers(["read"])).status_code == 200


def test_neutralise() -> None:
    assert [neutralise(v) for v in ("=A1", "+1", "-1", "@x", "\tx", "\rx", "ok", "")] == [
        "'=A1", "'+1", "'-1", "'@x", "'\tx", "'\rx", "ok", ""]
