"""POST /inventory/import: CSV and JSON lines, per-row errors, idempotent re-runs, the ledger kept exact."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.jobs.conftest import INV, JOBS, Importer, all_items, csv_bytes, item, movements
from tests.support import OrgContext

HEADER = ["external_id", "sku", "name", "tracking", "quantity", "price", "location_id", "attributes.metal"]


def test_csv_import_creates_items_with_received_movements(client: TestClient, org: OrgContext,
                                                          import_file: Importer, location: str) -> None:
    content = csv_bytes([HEADER, ["POS-1", "RING-1", "Solitaire ring", "serialized", 1, "1200.00", location, "gold"],
                         ["POS-2", "BAND-9", "Wedding band", "bulk", 12, "300", location, ""]])
    job = import_file(content)
    assert job["status"] == "succeeded", job
    assert job["progress"] == {"done": 2, "total": 2}
    assert job["errors"] == [] and job["error_count"] == 0
    assert (job["result"]["created"], job["result"]["updated"], job["result"]["rows"]) == (2, 0, 2)
    ring, band = item(client, org, "POS-1"), item(client, org, "POS-2")
    assert (ring["quantity"], ring["price"], ring["attributes"], ring["location_id"]) == (1, "1200.00",
                                                                                      {"metal": "gold"}, location)
    assert (band["quantity"], band["tracking"], band["attributes"]) == (12, "bulk", {})
    ledger = movements(client, org, "POS-2")
    assert [(m["quantity_change"], m["reason_code"]) for m in ledger] == [(12, "RECEIVED")]


def test_reimport_is_idempotent_and_updates(client: TestClient, org: OrgContext, import_file: Importer) -> None:
    rows: list[list[Any]] = [["external_id", "sku", "name", "tracking", "quantity"], ["A-1", "S1", "Chain", "bulk", 5],
            ["A-2", "S2", "Pendant", "bulk", 3]]
    assert import_file(csv_bytes(rows))["result"]["created"] == 2
    again = import_file(csv_bytes(rows))
    assert (again["result"]["created"], again["result"]["updated"], again["result"]["unchanged"]) == (0, 0, 2)
    assert len(all_items(client, org)) == 2
    rows[1][4] = 8
    rows[2][2] = "Gold pendant"
    third = import_file(csv_bytes(rows))
    assert (third["result"]["created"], third["result"]["updated"]) == (0, 2)
    assert item(client, org, "A-2")["name"] == "Gold pendant"
    ledger = movements(client, org, "A-1")
    assert [(m["quantity_change"], m["quantity_after"], m["reason_code"]) for m in ledger] == [
        (3, 8, "AUDIT"), (5, 5, "RECEIVED")]


def test_bad_rows_are_reported_by_line_and_field_and_the_rest_applied(client: TestClient, org: OrgContext,
                                                                      import_file: Importer) -> None:
    content = csv_bytes([
        ["external_id", "sku", "name", "tracking", "quantity", "price"],
        ["B-1", "S1", "Good", "bulk", 2, "10"],                 # line 2
        ["B-2", "S2", "Bad quantity", "bulk", "2.5", "10"],     # line 3
        ["B-3", "S3", "Bad price", "bulk", 1, "ten"],           # line 4
        ["B-1", "S1", "Duplicate", "bulk", 1, "10"],            # line 5
        ["", "S5", "No id", "bulk", 1, "10"],                   # line 6
        ["B-6", "S6", "Too many cells", "bulk", 1, "10", "x"],  # line 7
        ["B-7", "S7", "Fine too", "bulk", "4", ""],             # line 8
    ])
    job = import_file(content)
    assert job["status"] == "succeeded"
    problems = {(e["line"], e["field"]) for e in job["errors"]}
    assert problems == {(3, "quantity"), (4, "price"), (5, "external_id"), (6, "external_id"), (7, None)}
    assert job["error_count"] == 5 and job["result"]["failed"] == 5 and job["result"]["created"] == 2
    assert "line 2" in next(e["message"] for e in job["errors"] if e["line"] == 5)
    assert sorted(i["external_id"] for i in all_items(client, org)) == ["B-1", "B-7"]
    assert item(client, org, "B-1")["name"] == "Good"


def test_whole_file_problems_fail_the_job_clearly(org: OrgContext, import_file: Importer) -> None:
    missing = import_file(csv_bytes([["external_id", "name"], ["X", "Y"]]))
    assert missing["status"] == "failed" and "missing required columns: sku" in missing["message"]
    unknown = import_file(csv_bytes([["external_id", "sku", "name", "colour"], ["X", "S", "N", "red"]]))
    assert unknown["status"] == "failed" and "'colour'" in unknown["message"]
    # Bad bytes past what the request looked at (4 KiB) fail the job, naming the line; nothing is applied.
    rows = [["external_id", "sku", "name"]] + [[f"X-{n}", "S", "Bague en or"] for n in range(300)]
    late = csv_bytes(rows) + "X-300,S2,Collier en \u00e9meraude\n".encode("latin-1")
    bad = import_file(late)
    assert bad["status"] == "failed" and "not UTF-8" in bad["message"] and "line 302" in bad["message"]
    assert bad["result"]["rows"] == 0


def test_other_encodings_are_refused_at_once(client: TestClient, org: OrgContext) -> None:
    latin1 = "external_id,sku,name\nX-1,S,Bague en or\nX-2,S2,Collier en \u00e9meraude\n".encode("latin-1")
    utf16 = "external_id,sku,name\nX-1,S,Bague\n".encode("utf-16")
    for content, expected in ((latin1, "not UTF-8 (undecodable bytes on line 3)"), (utf16, "the file is UTF-16")):
        response = client.post(f"{INV}/import", files={"file": ("a.csv", content, "text/csv")}, headers=org.headers)
        assert response.status_code == 422, response.text
        error = response.json()["error"]["details"]["errors"][0]
        assert error["path"] == "$.file" and expected in error["message"]
    assert client.get(f"{INV}/X-1", headers=org.headers).status_code == 404


def test_duplicates_across_batches_and_invalid_updates_are_row_errors(client: TestClient, org: OrgContext,
                                                                      import_file: Importer) -> None:
    from vitrina.jobs.runner import RunnerOptions

    header = ["external_id", "sku", "name", "tracking", "quantity", "price"]
    first = [header] + [[f"D-{n}", f"S-{n}", f"Piece {n}", "bulk", n, "10"] for n in range(1, 7)]
    first.append(["D-2", "S-2", "Again", "bulk", 9, "10"])  # line 8: D-2 came on line 3, two batches earlier
    job = import_file(csv_bytes(first), options=RunnerOptions(batch_size=2))
    assert [(e["line"], e["field"]) for e in job["errors"]] == [(8, "external_id")]
    assert "first on line 3" in job["errors"][0]["message"] and job["result"]["created"] == 6
    assert item(client, org, "D-2")["quantity"] == 2
    # A second run updates: an invalid value for an existing item is that row's error, the others apply.
    second = [header, ["D-1", "S-1", "Piece 1", "bulk", 5, "10"], ["D-2", "S-2", "Piece 2", "bulk", 2, "ten"],
              ["D-3", "S-3", "Piece 3", "bulk", 3, "10"]]
    job = import_file(csv_bytes(second))
    assert [(e["line"], e["field"]) for e in job["errors"]] == [(3, "price")]
    assert (job["result"]["updated"], job["result"]["unchanged"], job["result"]["failed"]) == (1, 1, 1)
    assert item(client, org, "D-1")["quantity"] == 5 and item(client, org, "D-2")["price"] == "10.00"


def test_utf8_bom_and_jsonl_and_header_map(client: TestClient, org: OrgContext, import_file: Importer) -> None:
    bom = "\ufeffexternal_id,sku,name\nU-1,S-1,Bague \u00e9meraude\n".encode()
    assert import_file(bom)["result"]["created"] == 1
    assert item(client, org, "U-1")["name"] == "Bague \u00e9meraude"
    lines = [{"external_id": "J-1", "sku": "JS", "name": "Brooch", "quantity": 1, "attributes": {"karat": 18}},
             "not json", [1, 2], {"external_id": "J-2", "sku": "JS2", "name": "Cuff", "bogus": 1}]
    content = "\n".join(json.dumps(x) if not isinstance(x, str) else x for x in lines).encode()
    job = import_file(content, filename="stock.jsonl")
    assert job["result"]["created"] == 1
    assert {(e["line"], e["field"]) for e in job["errors"]} == {(2, None), (3, None), (4, "bogus")}
    assert item(client, org, "J-1")["attributes"] == {"karat": 18}
    mapped = csv_bytes([["Stock No", "Article", "Description courte", "Qty"], ["M-1", "ART", "Ring", 1]])
    job = import_file(mapped, data={"map": "Stock No=external_id,Article=sku,Description courte=name"})
    assert job["status"] == "succeeded" and job["result"]["created"] == 1, job


def test_unknown_location_and_taken_certificate_are_row_errors(client: TestClient, org: OrgContext,
                                                               import_file: Importer) -> None:
    response = client.post(INV, json={"sku": "DIA", "name": "Diamond", "certification": "GIA",
                                      "cert_number": "GIA-1"}, headers=org.headers)
    assert response.status_code == 201
    content = csv_bytes([["external_id", "sku", "name", "location_id", "certification", "cert_number"],
                         ["C-1", "DIA", "Same stone", "", "GIA", "GIA-1"],
                         ["C-2", "RING", "Ring", "loc_nowhere", "", ""],
                         ["C-3", "RING", "Another ring", "", "", ""]])
    job = import_file(content)
    assert {(e["line"], e["field"]) for e in job["errors"]} == {(2, "cert_number"), (3, "location_id")}
    assert job["result"]["created"] == 1
    assert item(client, org, "C-3")["quantity"] == 1


def test_small_batches_commit_in_order(client: TestClient, org: OrgContext, import_file: Importer) -> None:
    from vitrina.jobs.runner import RunnerOptions

    rows: list[list[Any]] = [["external_id", "sku", "name", "tracking", "quantity"]]
    rows += [[f"N-{n}", f"S-{n}", f"Piece {n}", "bulk", n] for n in range(1, 26)]
    rows[13][4] = -1  # line 14 is bad; every other row lands
    job = import_file(csv_bytes(rows), options=RunnerOptions(batch_size=4))
    assert job["status"] == "succeeded" and job["progress"]["done"] == 25
    assert job["result"]["created"] == 24 and [e["line"] for e in job["errors"]] == [14]
    assert job["result"]["applied_through_line"] == 26


def test_tenancy_and_scopes(client: TestClient, org: OrgContext, other_org: OrgContext,
                           run_job: Callable[..., Any]) -> None:
    content = csv_bytes([["external_id", "sku", "name"], ["T-1", "S", "N"]])
    reader = org.make_headers(["read"])
    refused = client.post(f"{INV}/import", files={"file": ("a.csv", content, "text/csv")}, headers=reader)
    assert refused.status_code == 403
    response = client.post(f"{INV}/import", files={"file": ("a.csv", content, "text/csv")}, headers=org.headers)
    job_id = response.json()["data"]["id"]
    assert client.get(f"{JOBS}/{job_id}", headers=other_org.headers).status_code == 404
    assert client.get(f"{JOBS}/{job_id}", headers=reader).status_code == 200
    assert client.get(f"{JOBS}/job_nope", headers=org.headers).json()["error"]["code"] == "JOB_NOT_FOUND"
    run_job(job_id)
    assert client.get(f"{INV}/T-1", headers=other_org.headers).status_code == 404


def test_bad_requests_are_4xx(client: TestClient, org: OrgContext) -> None:
    empty = client.post(f"{INV}/import", files={"file": ("a.csv", b"", "text/csv")}, headers=org.headers)
    assert empty.status_code == 422 and empty.json()["error"]["details"]["errors"][0]["path"] == "$.file"
    no_file = client.post(f"{INV}/import", data={"format": "csv"}, headers=org.headers)
    assert no_file.status_code == 422
    bad_map = client.post(f"{INV}/import", files={"file": ("a.csv", b"x\n", "text/csv")}, data={"map": "nonsense"},
                          headers=org.headers)
    assert bad_map.status_code == 422 and bad_map.json()["error"]["details"]["errors"][0]["path"] == "$.map"
