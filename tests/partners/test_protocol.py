"""WJ's wire protocol, whatever the domains behind it: the authkey header, the error table's codes 2, 3, 91, 92
and 93, WJ's limit/offset, and base64 versus plain JSON request data."""

from __future__ import annotations

import base64
import json

from fastapi.testclient import TestClient

from tests.partners.wj_client import BASE, WJClient
from tests.support import OrgContext


def _logged_in(client: TestClient, org: OrgContext) -> WJClient:
    wj = WJClient(client)
    assert wj.login(org.api_key, org.api_secret)["status"] == "success"
    return wj


def test_every_answer_is_base64_of_the_wj_envelope(client: TestClient, org: OrgContext) -> None:
    wj = _logged_in(client, org)
    response = client.get(f"{BASE}/order", params={"limit": "100000"}, headers={"authkey": str(wj.authkey)})
    body = json.loads(base64.b64decode(response.content, validate=True))
    assert set(body) == {"status", "error_code", "error_message", "data"}


def test_incorrect_token_is_error_2_with_http_200(client: TestClient, org: OrgContext) -> None:
    wj = WJClient(client, authkey="prtLoYWuLOirlFN7XkiXlJseuBXYnX3U")  # the seed's example authkey
    for path in ("/dir/productGender", "/product", "/order", "/order/ord_01J00000000000000000000000"):
        status, body = wj.get(path)
        assert (status, body["status"], body["error_code"], body["error_message"]) == (
            200, "error", 2, "Incorrect token"), path
    status, body = wj.post("/order", {"items": {"qty": 1}})
    assert (status, body["error_code"]) == (200, 2)


def test_no_authkey_is_http_401(client: TestClient) -> None:
    status, body = WJClient(client).get("/product")
    assert status == 401 and body["status"] == "error" and body["error_code"] == 3


def test_a_revoked_key_makes_its_authkey_incorrect(client: TestClient, org: OrgContext) -> None:
    key_id, api_key, api_secret = org.make_key(["read"])
    wj = _logged_in(client, OrgContext(id=org.id, api_key=api_key, api_secret=api_secret, make_key=org.make_key))
    assert wj.get("/order")[1]["error_code"] == 0
    assert client.delete(f"/api/v1/api-keys/{key_id}", headers=org.headers).status_code == 204
    assert wj.get("/order")[1]["error_code"] == 2


def test_limit_and_offset_beyond_the_maxima_are_errors_91_and_92(client: TestClient, org: OrgContext) -> None:
    wj = _logged_in(client, org)
    for path in ("/product", "/order"):
        # The seed's own example of the order list's limit parameter: ?limit=100000.
        status, body = wj.get(path, {"limit": "100000"})
        assert (status, body["error_code"], body["error_message"]) == (200, 91, "Limit is too long"), path
        status, body = wj.get(path, {"offset": "10000001"})
        assert (status, body["error_code"], body["error_message"]) == (200, 92, "Offset is too long"), path
        # However many digits: still too long, not a malformed number.
        assert wj.get(path, {"limit": "9" * 30})[1]["error_code"] == 91, path
        assert wj.get(path, {"offset": "9" * 30})[1]["error_code"] == 92, path
        assert wj.get(path, {"limit": "200", "offset": "10000000"})[1]["error_code"] == 0, path
        assert wj.get(path, {"limit": "abc"})[1]["error_code"] == 1, path
        assert wj.get(path, {"limit": "0"})[1]["error_code"] == 1, path
        assert wj.get(path, {"offset": "-1"})[1]["error_code"] == 1, path


def test_missing_data_is_error_93(client: TestClient, org: OrgContext) -> None:
    wj = _logged_in(client, org)
    headers = {"authkey": str(wj.authkey)}
    for path in ("/order", "/product-configurations"):
        assert wj.post(path, {})[1]["error_code"] == 93, path
        for raw in (b"", b"{}", b'{"other": 1}', b'{"data": ""}', b'{"data": null}'):
            response = client.post(BASE + path, content=raw, headers=headers)
            body = WJClient.decode(response.content)
            assert (response.status_code, body["error_code"], body["error_message"]) == (
                200, 93, "Empty required params"), (path, raw)


def test_undecodable_data_is_error_4(client: TestClient, org: OrgContext) -> None:
    wj = _logged_in(client, org)
    headers = {"authkey": str(wj.authkey)}
    for raw in (b'{"data": "%%%"}', b'{"data": "' + base64.b64encode(b"[1, 2]") + b'"}', b"not json",
                b'{"data": 12}'):
        body = WJClient.decode(client.post(f"{BASE}/order", content=raw, headers=headers).content)
        assert body["error_code"] == 4, raw


def test_plain_json_data_and_vitrina_credentials_are_accepted(client: TestClient, org: OrgContext) -> None:
    # A read-only key may read but not write; the adapter applies the key's scopes like /api/v1 does.
    reader = org.make_headers(["read"])
    body = WJClient.decode(client.get(f"{BASE}/order", params={"limit": "100000"}, headers=reader).content)
    assert body["error_code"] == 91
    response = client.post(f"{BASE}/order", content=json.dumps({"data": {"items": {"qty": 1}}}), headers=reader)
    assert WJClient.decode(response.content)["error_code"] == 6  # Incorrect Role
    bad = {"X-API-Key": f"{org.api_key}:wrong"}
    assert WJClient.decode(client.get(f"{BASE}/order", headers=bad).content)["error_code"] == 2


def test_language_header_is_accepted(client: TestClient, org: OrgContext) -> None:
    wj = _logged_in(client, org)
    for language in ("en-EN", "de-DE", ""):
        response = client.get(f"{BASE}/order", params={"limit": "100000"},
                              headers={"authkey": str(wj.authkey), "language": language})
        assert WJClient.decode(response.content)["error_code"] == 91, language


def test_an_absent_domain_is_wj_error_40_with_http_503() -> None:
    from vitrina.partners import backend
    from vitrina.partners.codec import WJError

    try:
        backend._load("vitrina.no_such_domain.service", "no-such")
    except WJError as error:
        assert (error.code, error.http_status) == (40, 503) and "no-such" in error.message
    else:
        raise AssertionError("an absent service module must be reported, not imported")


def test_wrapped_or_unpadded_base64_data_is_read(client: TestClient, org: OrgContext) -> None:
    # MIME-style base64 (76-column lines, as PHP's chunk_split or Python's encodebytes write it) and base64
    # without its padding still carry WJ's encoding.
    for note in ("x" * 80, "x" * 81, "x" * 82):  # three lengths: one of them needs padding
        login = json.dumps({"api_key": org.api_key, "secret_key": org.api_secret, "note": note}).encode()
        for data in (base64.encodebytes(login).decode(), base64.b64encode(login).decode().rstrip("=")):
            response = client.post(f"{BASE}/user/login", content=json.dumps({"data": data}))
            assert WJClient.decode(response.content)["status"] == "success", data
