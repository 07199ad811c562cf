"""A WJ Partners client written only from the seed (001), talking HTTP to a live Vitrina server.

Nothing here uses Vitrina's own API or helpers: each request is the seed's example request, built the way the
seed shows it (``{"data": "<base64 of the JSON>"}``, the ``authkey`` and ``language`` headers, ``limit``/``offset``
as query strings), and each response is read the way a WJ client reads it: base64-decode the body, parse the
JSON, check ``status`` and ``error_code``. Only the store's catalog is set up beforehand, on Vitrina's side.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.partners.catalog_setup import PARTNER_ID, PRODUCTS, add_product, build_catalog
from tests.partners.seed_examples import CONFIGURATIONS, FULL_ORDER_DATA, configuration, seed_json
from tests.support import LiveServer, OrgContext
from vitrina.db.session import Database

pytest.importorskip("vitrina.orders.service", reason="the orders domain is not in this tree yet")

VERSION = "/partners/1.0"  # the seed's "/1.0", under Vitrina's base URL
SEED_AUTHKEY = "prtLoYWuLOirlFN7XkiXlJseuBXYnX3U"  # the seed's example authkey: not a token of ours
# The seed's "REQUEST FOR AUTHENTICATE", ENCODED form, verbatim (base64 of its api_key/secret_key example).
SEED_ENCODED_LOGIN = ("ewogICAgICAiYXBpX2tleSI6ICJhcGkga2V5IiwKICAgICAgInNlY3JldF9rZXkiOiAic2VjcmV0IGtleSIKfQ==")
DIRECTORIES = ("productGender", "productStatus", "currency", "stoneWeight", "stoneLock", "metalLock", "productType",
               "jewelryType")
# The seed's product examples: RPD117 pendant, RRG106 ring, RCR21 bridal, REA011 earrings, RBR007 bracelet;
# its "Full Order Data" orders an RPD104 pendant.
VENDOR_MODEL = {"pendant": "RPD104", "ring": "RRG106", "bridal": "RCR21", "earring": "REA011", "bracelet": "RBR007"}
ORDER_STATUSES = set(range(10))  # WJ's 0 Canceled ... 9 Finished


class SeedClient:
    """What a WJ integration does on the wire: encode ``data`` as base64 JSON, send ``authkey``, decode."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http
        self.authkey: str | None = None

    def headers(self) -> dict[str, str]:
        headers = {"language": "en-EN", "Content-Type": "application/json"}
        if self.authkey is not None:
            headers["authkey"] = self.authkey
        return headers

    @staticmethod
    def body(data: dict[str, Any]) -> bytes:
        # As the seed's ENCODED example: the JSON text of ``data``, base64, as the string value of "data".
        return json.dumps({"data": base64.b64encode(json.dumps(data, indent=4).encode()).decode()}).encode()

    @staticmethod
    def read(response: httpx.Response) -> dict[str, Any]:
        envelope = json.loads(base64.b64decode(response.content, validate=True))
        assert set(envelope) == {"status", "error_code", "error_message", "data"}, envelope
        return dict(envelope)

    def call(self, method: str, path: str, *, data: dict[str, Any] | None = None, raw: bytes | None = None,
             query: str = "") -> tuple[int, dict[str, Any]]:
        content = raw if raw is not None else (self.body(data) if data is not None else None)
        response = self.http.request(method, VERSION + path + query, content=content, headers=self.headers())
        return response.status_code, self.read(response)


def ok(answer: tuple[int, dict[str, Any]], http_status: int = 200) -> Any:
    status, envelope = answer
    assert status == http_status, (status, envelope)
    assert (envelope["status"], envelope["error_code"]) == ("success", 0), envelope
    return envelope["data"]


def wj_error(answer: tuple[int, dict[str, Any]], code: int, message: str, http_status: int = 200) -> Any:
    status, envelope = answer
    assert (status, envelope["status"], envelope["error_code"], envelope["error_message"]) == (
        http_status, "error", code, message), envelope
    return envelope["data"]


@pytest.fixture
def wj(wj_server: LiveServer, database: Database, org: OrgContext) -> Iterator[SeedClient]:
    """A store with the seed's catalog, and a WJ client logged in with the store's credentials."""
    build_catalog(database, org)
    add_product(database, org, {**PRODUCTS["pendant"], "vendor_model": "RPD117",
                                "image_url": "https://cdn.example/zbuilder/necklace/RPD117/RPD117-PLP.png"})
    with httpx.Client(base_url=wj_server.url, timeout=30) as http:
        client = SeedClient(http)
        login = ok(client.call("POST", "/user/login", data={"api_key": org.api_key, "secret_key": org.api_secret}))
        client.authkey = login["authkey"]
        yield client


def test_login(wj_server: LiveServer, org: OrgContext) -> None:
    with httpx.Client(base_url=wj_server.url, timeout=30) as http:
        client = SeedClient(http)
        # The seed's encoded example, sent as is: a well-formed request with credentials we never issued.
        wj_error(client.call("POST", "/user/login", raw=json.dumps({"data": SEED_ENCODED_LOGIN}).encode()),
                 2, "Incorrect token")
        data = ok(client.call("POST", "/user/login", data={"api_key": org.api_key, "secret_key": org.api_secret}))
        assert isinstance(data["authkey"], str) and data["authkey"]
        client.authkey = data["authkey"]
        ok(client.call("GET", "/dir/productGender"))
        # 93 Empty required params: a login without its secret.
        wj_error(client.call("POST", "/user/login", data={"api_key": org.api_key}), 93, "Empty required params")


@pytest.mark.parametrize("name", DIRECTORIES)
def test_every_directory(wj: SeedClient, name: str) -> None:
    entries = ok(wj.call("GET", f"/dir/{name}"))["list"]
    assert isinstance(entries, list) and entries, name
    if name == "productGender":
        assert entries == [{"id": 0, "title": "Empty"}, {"id": 1, "title": "Woman"}, {"id": 2, "title": "Man"},
                           {"id": 3, "title": "Another"}]
    if name == "productStatus":
        assert [(e["id"], e["title"]) for e in entries] == [(0, "New"), (1, "Created"), (2, "Finalized"),
                                                             (9, "Disabled"), (10, "Deleted")]
    if name == "currency":
        usd = next(e for e in entries if e["code"] == "USD")
        assert (usd["id"], usd["sign"], usd["number"], usd["exponent"], usd["rate"]) == (1, "$", 840, 2, 1)
    if name == "metalLock":
        assert [(e["material_sku"], e["material_title"], e["cost"]) for e in entries] == [("f", "14K GOLD", 28.79)]
    if name == "stoneLock":
        assert all({"material_sku", "weight_stone", "stone_shape", "quality", "cost"} <= set(e) for e in entries)
        assert all(isinstance(e["cost"], int | float) for e in entries)
    if name == "stoneWeight":
        assert {"sku": "e", "title": 0.25} in [{"sku": e["sku"], "title": e["title"]} for e in entries]
    if name in ("productType", "jewelryType"):
        assert all({"id", "title", "description", "status"} <= set(e) for e in entries)


def test_product_list(wj: SeedClient) -> None:
    # The seed's example request: GET /1.0/product?offset=0&limit=50
    data = ok(wj.call("GET", "/product", query="?offset=0&limit=50"))
    assert data["products_count"] == 6
    models = [p["vendor_model"] for p in data["products"]]
    assert sorted(models) == sorted([*VENDOR_MODEL.values(), "RPD117"])
    for product in data["products"]:
        assert isinstance(product["created_at"], int) and isinstance(product["updated_at"], int)
        assert isinstance(product["status"], int) and isinstance(product["gender"], int)
        assert isinstance(product["jewelryType"], str) and isinstance(product["product_type"], str)
        assert isinstance(product["retail_start"], int | float) and isinstance(product["options"], dict)
    filtered = ok(wj.call("GET", "/product", query="?jewelryType=8&productType=2"))
    assert [p["vendor_model"] for p in filtered["products"]] == ["RCR21"] and filtered["products_count"] == 1


def test_product_by_vendor_model(wj: SeedClient) -> None:
    # The seed's example request: GET /1.0/product/RPD117
    [pendant] = ok(wj.call("GET", "/product/RPD117"))["products"]
    assert pendant["vendor_model"] == "RPD117" and pendant["partner_id"] == PARTNER_ID
    assert pendant["title"] == "Diamond heart Pendant" and pendant["jewelryType"] == "7"
    assert pendant["options"]["pendant"]["stones_max"] == 7
    assert pendant["options"]["chain"]["metal"][0]["color"][0] == {"sku": "R", "title": "Rose"}


def test_product_by_partner_id(wj: SeedClient) -> None:
    # The seed's example request: GET /1.0/product/123123, "Get product list By Product ID in partner system".
    products = ok(wj.call("GET", f"/product/{PARTNER_ID}"))["products"]
    assert sorted(p["vendor_model"] for p in products) == sorted([*VENDOR_MODEL.values(), "RPD117"])
    assert {p["partner_id"] for p in products} == {PARTNER_ID}


@pytest.mark.parametrize("kind", list(CONFIGURATIONS))
def test_configuration_pricing(wj: SeedClient, kind: str) -> None:
    # "Get Product Configuration Data": {"items": {"qty", "vendor_model", "size", "configuration"}}, with the
    # seed's example configuration for this kind of product.
    item = {"qty": 1, "vendor_model": VENDOR_MODEL[kind], "size": 18,
            "configuration": configuration(CONFIGURATIONS[kind])}
    data = ok(wj.call("POST", "/product-configurations", data={"items": item}))
    assert data["vendor_model"] == VENDOR_MODEL[kind]
    assert isinstance(data["ci"], str) and data["ci"].startswith(VENDOR_MODEL[kind] + "-")
    assert isinstance(data["retail"], int | float) and data["retail"] > 0
    # The same configuration again is the same configuration id and price.
    again = ok(wj.call("POST", "/product-configurations", data={"items": item}))
    assert (again["ci"], again["retail"]) == (data["ci"], data["retail"])


def test_order_create_list_get_and_status_update(wj: SeedClient) -> None:
    full_order_data = seed_json(FULL_ORDER_DATA)
    created = ok(wj.call("POST", "/order", data=full_order_data), http_status=201)["success"]
    order_id = created["order_id"]
    assert created["order_type"] == 1 and created["order_purpose"] == 1 and created["order_status"] == 2
    assert created["payment_status"] == 2 and created["currency"] == 1
    assert created["shipping_address"] == "City, Country" and created["billing_address"] == "Country, City"
    assert created["customer"] == {"id": 19, "email": "abc@gmail.com", "phone": "34124", "name": "Jon Doe"}
    item = created["items"]
    assert item["vendor_model"] == "RPD104" and item["qty"] == 1 and item["currency"] == 1
    assert item["configuration_id"].startswith("RPD104-") and item["cost"] > 0 and item["amount"] == item["cost"]
    assert sorted(s["position"] for s in item["stones"]) == [1, 2, 3]

    # "Get All Order Info": limit and offset are strings that may be empty.
    listed = ok(wj.call("GET", "/order", query="?limit=&offset="))
    [summary] = [o for o in listed if o["id"] == order_id]
    assert (summary["type"], summary["status"], summary["purpose"]) == (1, 2, 1)
    assert (summary["payment_status"], summary["currency_id"], summary["customer_id"]) == (2, 1, 19)
    assert ok(wj.call("GET", "/order", query="?limit=50&offset=0")) == listed

    # "Get Single Order by ID"
    assert ok(wj.call("GET", f"/order/{order_id}")) == created

    # "Update Order Status": Ready for production with a tracking number, then the seed's example body.
    updated = ok(wj.call("PUT", f"/order/{order_id}", data={"order_status": 3, "tracking_number": "794643487347"}))
    assert (updated["id"], updated["status"], updated["tracking_number"]) == (order_id, 3, "794643487347")
    updated = ok(wj.call("PUT", f"/order/{order_id}", data={"delivery_status": 4, "production_status": 5}))
    assert updated["status"] == 5 and updated["status"] in ORDER_STATUSES
    assert ok(wj.call("GET", f"/order/{order_id}"))["order_status"] == 5


def test_error_codes(wj: SeedClient) -> None:
    # 2 Incorrect token: the seed's example authkey (HTTP 200, as the seed's "internal error response").
    token, wj.authkey = wj.authkey, SEED_AUTHKEY
    data = wj_error(wj.call("GET", "/dir/productGender"), 2, "Incorrect token")
    assert data == {}
    wj.authkey = token
    # 72 Product not found
    wj_error(wj.call("GET", "/product/RSD1292"), 72, "Product not found")
    # 76 Order not found
    wj_error(wj.call("GET", "/order/1"), 76, "Order not found")
    wj_error(wj.call("PUT", "/order/1", data={"delivery_status": 4}), 76, "Order not found")
    # 91 Limit is too long: the seed's own example value for the order list's limit, ?limit=100000.
    wj_error(wj.call("GET", "/order", query="?limit=100000"), 91, "Limit is too long")
    wj_error(wj.call("GET", "/product", query="?limit=100000"), 91, "Limit is too long")
    # 92 Offset is too long
    wj_error(wj.call("GET", "/order", query="?offset=100000000"), 92, "Offset is too long")
    # 93 Empty required params: an order without items, a request without data.
    order = seed_json(FULL_ORDER_DATA)
    del order["items"]
    wj_error(wj.call("POST", "/order", data=order), 93, "Empty required params")
    wj_error(wj.call("POST", "/product-configurations", raw=b"{}"), 93, "Empty required params")


def test_no_authkey_is_http_401(wj_server: LiveServer) -> None:
    with httpx.Client(base_url=wj_server.url, timeout=30) as http:
        response = http.get(VERSION + "/product", headers={"language": "en-EN"})
    assert response.status_code == 401
    assert SeedClient.read(response)["status"] == "error"
