"""The configurator WebSocket (WJ's method 1001): plain and base64 framing, WJ-style errors, a long-lived socket."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from tests.support import OrgContext
from vitrina.catalog import demo

WS = "/api/v1/ws/configurator"


def _token(client: TestClient, org: OrgContext) -> str:
    response = client.post("/api/v1/auth/token", json={"api_key": org.api_key, "api_secret": org.api_secret})
    return str(response.json()["access_token"])


def test_socket_prices_many_requests_in_both_framings(client: TestClient, org: OrgContext,
                                                      catalog: dict[str, Any]) -> None:
    model, configuration = demo.EXAMPLES["pendant"]
    request = {"method_id": 1001, "vendor_model": model, "configuration": configuration}
    with client.websocket_connect(f"{WS}?token={_token(client, org)}") as socket:
        socket.send_text(json.dumps(request))
        plain = json.loads(socket.receive_text())
        assert plain["status"] == "success" and plain["method_id"] == 1001 and plain["error"] == 0
        assert plain["message"]["retail"] == "1895.74" and plain["message"]["ci"].startswith("RPD104-")
        socket.send_text(base64.b64encode(json.dumps(request).encode()).decode())
        framed = json.loads(base64.b64decode(socket.receive_text()))
        assert framed["message"]["ci"] == plain["message"]["ci"]
        socket.send_text("not json nor base64 !!")
        assert json.loads(socket.receive_text()) == {"status": "error", "error": 4,
                                                     "message": "The frame is not a JSON object."}
        socket.send_text(json.dumps({**request, "vendor_model": "NOPE"}))
        assert json.loads(socket.receive_text())["error"] == 72
        bad = {**request, "configuration": {"pendant": {"metal": {"sku": "zz"}}}}
        socket.send_text(base64.b64encode(json.dumps(bad).encode()).decode())
        reply = json.loads(base64.b64decode(socket.receive_text()))
        assert reply["status"] == "error" and reply["error"] == 90
        assert "$.configuration.pendant.metal.sku" in {e["path"] for e in reply["errors"]}
        socket.send_text(json.dumps({"method_id": 7}))
        assert json.loads(socket.receive_text())["error"] == 1
        socket.send_text(json.dumps(request))  # still open after errors
        assert json.loads(socket.receive_text())["status"] == "success"


def test_socket_needs_a_valid_token(client: TestClient, org: OrgContext) -> None:
    for url in (WS, f"{WS}?token=garbage"):
        with pytest.raises(WebSocketDisconnect), client.websocket_connect(url) as socket:
            socket.receive_text()


def test_socket_is_scoped_to_the_tokens_organization(client: TestClient, org: OrgContext, other_org: OrgContext,
                                                     catalog: dict[str, Any]) -> None:
    model, configuration = demo.EXAMPLES["ring"]
    with client.websocket_connect(f"{WS}?token={_token(client, other_org)}") as socket:
        socket.send_text(json.dumps({"method_id": 1001, "vendor_model": model, "configuration": configuration}))
        assert json.loads(socket.receive_text())["error"] == 72
