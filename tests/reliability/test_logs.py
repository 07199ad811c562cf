"""Structured logs: one JSON object a line, with request id, organization and key id on every authenticated
request, and never a secret: not the API secret (in token requests, ``X-API-Key`` headers or key creation
responses), not a bearer token, not a wrong secret someone tried.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.reliability import figures
from tests.reliability.population import new_org
from tests.reliability.servers import start_own_server
from vitrina.config import Settings
from vitrina.db.session import Database


def test_logs_are_json_with_context_and_never_hold_secrets(settings: Settings, database: Database,
                                                           tmp_path: Path) -> None:
    org = new_org(database, "Logged Jewelers")
    log_path = tmp_path / "server.log"
    server = start_own_server(settings, log_path, workers=1, extra_env={"VITRINA_LOG_LEVEL": "INFO"})
    secrets = [org.api_secret]
    request_ids: list[str] = []
    try:
        with server.client() as client:
            token = client.post("/api/v1/auth/token", json={"api_key": org.api_key, "api_secret": org.api_secret})
            assert token.status_code == 200
            access_token = token.json()["access_token"]
            secrets.append(access_token)
            bearer = {"Authorization": f"Bearer {access_token}"}
            created = client.post("/api/v1/api-keys", json={"name": "logged", "scopes": ["read"]}, headers=bearer)
            assert created.status_code == 201
            secrets.append(created.json()["data"]["api_secret"])
            wrong = "vs_live_" + "W" * 43
            secrets.append(wrong)
            assert client.post("/api/v1/auth/token", json={"api_key": org.api_key, "api_secret": wrong}
                               ).status_code == 401
            assert client.get("/api/v1/me", headers={"X-API-Key": f"{org.api_key}:{wrong}"}).status_code == 401
            for headers in (bearer, org.headers):
                response = client.get("/api/v1/me", headers=headers | {"X-Request-Id": f"logcheck-{len(request_ids)}"})
                assert response.status_code == 200
                request_ids.append(response.headers["x-request-id"])
    finally:
        server.stop()
    output = log_path.read_text()
    figures.count("logs.lines_checked", len(output.splitlines()))
    leaked = [s[:12] + "…" for s in secrets if s in output]
    assert not leaked, f"secrets in the logs: {leaked}"
    entries = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    requests = [e for e in entries if e.get("message") == "request"]
    assert requests, f"no access log lines:\n{output[-2000:]}"
    for request_id in request_ids:
        entry = next(e for e in requests if e.get("request_id") == request_id)
        assert entry["organization_id"] == org.id and entry["key_id"].startswith("key_")
        assert entry["path"] == "/api/v1/me" and entry["status"] == 200
    assert all(e.get("request_id") for e in requests)
    non_json = [line for line in output.splitlines() if line.strip() and not line.startswith("{")]
    assert not non_json, f"lines that are not JSON: {non_json[:3]}"
