"""The demo data tells a consistent story: ``vitrina check`` passes on it and its sample tap verifies."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient
from rich.console import Console

from tests.support import OrgContext
from vitrina.db.session import Database
from vitrina.provenance import checks, demo


def test_demo_seed_passes_checks_and_its_sample_tap_verifies(client: TestClient, org: OrgContext,
                                                             database: Database) -> None:
    with database.unit_of_work(organization_id=org.id) as session:
        result = demo.seed(session, organization_id=org.id, console=Console(quiet=True))
    assert result["provenance_passports"] == demo.PASSPORTS
    with database.unit_of_work(write=False) as session:
        assert checks.run_checks(session, organization_id=org.id) == []
    url = urlsplit(result["provenance_sample_tap"])
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    answer = client.get("/api/v1/public/verify", params={"tag_id": result["provenance_sample_tag"], **query},
                        headers={"X-Forwarded-For": "198.20.0.1"})
    assert answer.status_code == 200 and answer.json()["data"]["authenticity"] == "confirmed"
    stolen = client.get("/api/v1/passports", params={"status": "stolen"}, headers=org.headers).json()["data"]
    assert len(stolen) == 1
