"""Operations routes, the OpenAPI document, the migration guard and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient

from tests.support import OrgContext, settings_env
from vitrina.app import create_app
from vitrina.config import Settings
from vitrina.db.migrate import DatabaseNotMigrated


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"]["database"] == "ok"


def test_metrics_use_route_templates(client: TestClient, org: OrgContext) -> None:
    client.get("/api/v1/locations/loc_x", headers=org.headers)
    text = client.get("/metrics").text
    assert 'route="/api/v1/locations/{location_id}"' in text
    assert "vitrina_http_request_duration_seconds_bucket" in text


def test_openapi_documents_routes_and_errors(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    operation = schema["paths"]["/api/v1/locations"]["post"]
    assert {"201", "401", "403", "409", "422", "429"} <= set(operation["responses"])
    assert "bearerAuth" in schema["components"]["securitySchemes"]
    assert client.get("/docs").status_code == 200


def test_unmigrated_database_refuses_to_start(tmp_path: pytest.TempPathFactory) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/empty.db", data_dir=tmp_path)
    with pytest.raises(DatabaseNotMigrated, match="vitrina db upgrade"), TestClient(create_app(settings)):
        pass


def test_cli_org_create_and_keys(settings: Settings) -> None:
    env = settings_env(settings)

    def vitrina(*args: str) -> dict:
        result = subprocess.run([sys.executable, "-m", "vitrina.cli", *args, "--json"], env=env,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    created = vitrina("org", "create", "Acme", "--plan", "enterprise", "--rate-limit", "20000/min")
    assert set(created) == {"organization_id", "api_key", "api_secret"}
    key = vitrina("keys", "create", "--org", created["organization_id"], "--scopes", "read")
    assert key["scopes"] == ["read"]
    listed = vitrina("keys", "list", "--org", created["organization_id"])
    assert len(listed["keys"]) == 2
    revoked = vitrina("keys", "revoke", key["id"], "--org", created["organization_id"])
    assert revoked["revoked_at"]
    bad = subprocess.run([sys.executable, "-m", "vitrina.cli", "org", "create", "X", "--plan", "gold"], env=env,
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and "error" in bad.stderr
