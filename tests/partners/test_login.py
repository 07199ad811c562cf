"""WJ's login, written from the seed's example requests."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from tests.partners.wj_client import WJClient
from tests.support import OrgContext


def test_login_with_base64_data_returns_a_working_authkey(client: TestClient, org: OrgContext) -> None:
    wj = WJClient(client)
    body = wj.login(org.api_key, org.api_secret)
    assert body["status"] == "success" and body["error_code"] == 0
    # The authkey is a normal Vitrina token.
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['data']['authkey']}"})
    assert me.json()["data"]["organization"]["id"] == org.id


def test_login_accepts_plain_json_data(client: TestClient, org: OrgContext) -> None:
    response = client.post("/partners/1.0/user/login",
                           content=json.dumps({"data": {"api_key": org.api_key, "secret_key": org.api_secret}}))
    assert WJClient.decode(response.content)["status"] == "success"


def test_login_errors(client: TestClient, org: OrgContext) -> None:
    wj = WJClient(client)
    assert wj.login(org.api_key, "wrong")["error_code"] == 2
    status, body = wj.post("/user/login", {"api_key": org.api_key})
    assert status == 200 and body["error_code"] == 93 and body["error_message"] == "Empty required params"
    response = client.post("/partners/1.0/user/login", content=b'{"data": "%%%not-base64"}')
    assert WJClient.decode(response.content)["error_code"] == 4
