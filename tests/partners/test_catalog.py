"""WJ's directories, products and configuration pricing, as a WJ client built from the seed sees them."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.partners.catalog_setup import PARTNER_ID, build_catalog, quote
from tests.partners.seed_examples import CONFIGURATIONS, configuration
from tests.partners.wj_client import WJClient
from tests.support import OrgContext
from vitrina.db.session import Database

# Each directory of the seed with the fields its example shows.
DIRECTORY_FIELDS = {
    "productGender": {"id", "title"}, "productStatus": {"id", "title"},
    "currency": {"id", "code", "sign", "number", "exponent", "currency", "rate", "default"},
    "stoneWeight": {"sku", "title", "description", "status"},
    "stoneLock": {"material_sku", "material_title", "weight_from", "weight_to", "weight_stone", "stone_shape",
                  "quality", "cost"},
    "metalLock": {"id", "material_sku", "material_title", "cost"},
    "productType": {"id", "title", "description", "status"},
    "jewelryType": {"id", "title", "description", "status"},
}


@pytest.fixture
def store(client: TestClient, org: OrgContext, database: Database) -> tuple[WJClient, dict[str, str]]:
    products = build_catalog(database, org)
    wj = WJClient(client)
    assert wj.login(org.api_key, org.api_secret)["status"] == "success"
    return wj, products


def _ok(answer: tuple[int, dict[str, Any]]) -> Any:
    status, body = answer
    assert status == 200 and body["status"] == "success" and body["error_code"] == 0, body
    return body["data"]


@pytest.mark.parametrize("name", sorted(DIRECTORY_FIELDS))
def test_every_directory(store: tuple[WJClient, dict[str, str]], name: str) -> None:
    wj, _products = store
    entries = _ok(wj.get(f"/dir/{name}"))["list"]
    assert entries, name
    for entry in entries:
        assert DIRECTORY_FIELDS[name] <= set(entry), (name, entry)


def test_directory_values_are_wj_numbers(store: tuple[WJClient, dict[str, str]]) -> None:
    wj, _products = store
    currencies = {c["code"]: c for c in _ok(wj.get("/dir/currency"))["list"]}
    assert currencies["USD"]["id"] == 1 and currencies["USD"]["number"] == 840 and currencies["USD"]["rate"] == 1
    assert currencies["EUR"]["rate"] == 1.14
    [gold] = _ok(wj.get("/dir/metalLock"))["list"]
    assert gold["material_sku"] == "f" and gold["cost"] == 28.79
    stones = {(s["material_sku"], s["weight_stone"]): s for s in _ok(wj.get("/dir/stoneLock"))["list"]}
    assert stones[("DI", "F")]["cost"] == 900 and stones[("sss", "k")]["stone_shape"] == "rd"
    genders = {g["id"]: g["title"] for g in _ok(wj.get("/dir/productGender"))["list"]}
    assert genders == {0: "Empty", 1: "Woman", 2: "Man", 3: "Another"}


def test_unknown_directory_is_an_error(store: tuple[WJClient, dict[str, str]]) -> None:
    wj, _products = store
    status, body = wj.get("/dir/noSuchDirectory")
    assert status == 200 and body["status"] == "error" and body["error_code"] == 1


def test_product_list_with_limit_offset_and_filters(store: tuple[WJClient, dict[str, str]]) -> None:
    wj, products = store
    data = _ok(wj.get("/product", {"offset": "0", "limit": "50"}))  # the seed's example request
    assert data["products_count"] == 5
    assert {p["vendor_model"] for p in data["products"]} == set(products.values())
    pendant = next(p for p in data["products"] if p["vendor_model"] == "RPD104")
    assert pendant["partner_id"] == PARTNER_ID and pendant["title"] == "Diamond heart Pendant"
    assert pendant["jewelryType"] == "7" and pendant["product_type"] == "1" and pendant["status"] == 2
    assert pendant["gender"] == 1 and pendant["plp_image"].endswith("RPD104-PLP.png")
    assert isinstance(pendant["created_at"], int) and isinstance(pendant["updated_at"], int)
    assert isinstance(pendant["retail_start"], int | float) and pendant["retail_start"] > 0
    options = pendant["options"]
    assert options["chain"]["metal"][0]["material_sku"] == "f" and options["pendant"]["stones_max"] == 7
    assert [f["sku"] for f in options["engraving"]["fonts"]] == ["handlee", "satisfy", "charm"]
    # The vendor's pricing inputs stay private.
    assert "labor" not in options["pendant"] and "metal_weight_g" not in options["chain"]
    assert "price" not in options["engraving"]

    page = _ok(wj.get("/product", {"limit": "2", "offset": "1"}))
    assert len(page["products"]) == 2 and page["products_count"] == 5
    rings = _ok(wj.get("/product", {"jewelryType": "8"}))
    assert {p["vendor_model"] for p in rings["products"]} == {"RRG106", "RCR21"}
    bridal = _ok(wj.get("/product", {"productType": "2"}))
    assert [p["vendor_model"] for p in bridal["products"]] == ["RCR21"]
    assert _ok(wj.get("/product", {"limit": "", "offset": ""}))["products_count"] == 5  # WJ allows empty values


def test_product_by_vendor_model_and_by_partner_id(store: tuple[WJClient, dict[str, str]]) -> None:
    wj, _products = store
    [ring] = _ok(wj.get("/product/RRG106"))["products"]
    assert ring["vendor_model"] == "RRG106" and ring["options"]["ring"]["stones_max"] == 3
    # WJ's "Get product list By Product ID in partner system": every product with that partner id.
    by_partner = _ok(wj.get(f"/product/{PARTNER_ID}"))
    assert sorted(p["vendor_model"] for p in by_partner["products"]) == sorted(VENDOR_MODELS.values())
    assert by_partner["products_count"] == 5 and {p["partner_id"] for p in by_partner["products"]} == {PARTNER_ID}
    [lower] = _ok(wj.get("/product/rrg106"))["products"]  # a vendor model is matched case-insensitively
    assert lower["vendor_model"] == "RRG106"


def test_unknown_product_is_error_72(store: tuple[WJClient, dict[str, str]]) -> None:
    wj, _products = store
    status, body = wj.get("/product/NOSUCHMODEL")
    assert (status, body["status"], body["error_code"], body["error_message"]) == (
        200, "error", 72, "Product not found")


VENDOR_MODELS = {"pendant": "RPD104", "ring": "RRG106", "bridal": "RCR21", "earring": "REA011",
                 "bracelet": "RBR007"}


@pytest.mark.parametrize("kind", list(CONFIGURATIONS))
def test_seed_configuration_examples_are_priced(store: tuple[WJClient, dict[str, str]], database: Database,
                                                org: OrgContext, kind: str) -> None:
    wj, _products = store
    chosen = configuration(CONFIGURATIONS[kind])
    # The request body of the seed's "Get Product Configuration Data", with this example's configuration.
    data = _ok(wj.post("/product-configurations", {"items": {"qty": 1, "vendor_model": VENDOR_MODELS[kind],
                                                             "size": 18, "configuration": chosen}}))
    assert data["vendor_model"] == VENDOR_MODELS[kind] and data["ci"].startswith(VENDOR_MODELS[kind] + "-")
    assert isinstance(data["retail"], int | float) and data["retail"] > 0 and data["price"] == data["retail"]
    assert data["currency"] == "USD" and data["title"]
    # Translation only: the catalog service itself prices it the same, under the same ci.
    same = quote(database, org, vendor_model=VENDOR_MODELS[kind], configuration=chosen, size=18)
    assert data["ci"] == same.ci and Decimal(str(data["retail"])) == same.retail


def test_configuration_by_ci_and_key_order(store: tuple[WJClient, dict[str, str]]) -> None:
    wj, _products = store
    chosen = configuration(CONFIGURATIONS["ring"])
    first = _ok(wj.post("/product-configurations", {"items": {"qty": 1, "vendor_model": "RRG106",
                                                              "configuration": chosen}}))
    reordered = dict(reversed(list(chosen.items())))
    again = _ok(wj.post("/product-configurations", {"items": [{"vendor_model": "RRG106",
                                                               "configuration": reordered}]}))
    assert again[0]["ci"] == first["ci"] and again[0]["retail"] == first["retail"]
    stored = _ok(wj.post("/product-configurations", {"items": {"configuration_id": first["ci"]}}))
    assert stored["ci"] == first["ci"] and stored["retail"] == first["retail"]


CaseEdit = Callable[[dict[str, Any]], None]


@pytest.mark.parametrize(("edit", "code"), [
    (lambda item: item.pop("vendor_model"), 100),
    (lambda item: item.update(vendor_model="NOSUCHMODEL"), 72),
    (lambda item: item.pop("configuration"), 102),
    (lambda item: item.update(configuration={"ring": {"metal": {"sku": "zz"}}}), 90),
    (lambda item: item["configuration"]["engraving"]["e0"].update(text="X" * 40), 90),
    (lambda item: item.update(qty="many"), 90),
])
def test_configuration_errors(store: tuple[WJClient, dict[str, str]], edit: CaseEdit, code: int) -> None:
    wj, _products = store
    item = {"qty": 1, "vendor_model": "RRG106", "configuration": configuration(CONFIGURATIONS["ring"])}
    edit(item)
    status, body = wj.post("/product-configurations", {"items": item})
    assert status == 200 and body["status"] == "error" and body["error_code"] == code, body


def test_bad_choice_names_its_json_path(store: tuple[WJClient, dict[str, str]]) -> None:
    wj, _products = store
    chosen = configuration(CONFIGURATIONS["ring"])
    chosen["ring"]["metal"]["color"] = "Q"
    _status, body = wj.post("/product-configurations", {"items": {"vendor_model": "RRG106",
                                                                  "configuration": chosen}})
    assert body["error_code"] == 90
    paths = [e["path"] for e in body["data"]["details"]["errors"]]
    assert any(p.endswith("ring.metal.color") for p in paths), paths


def test_another_organizations_products_are_not_found(store: tuple[WJClient, dict[str, str]], client: TestClient,
                                                      other_org: OrgContext) -> None:
    other = WJClient(client)
    other.login(other_org.api_key, other_org.api_secret)
    assert other.get("/product/RRG106")[1]["error_code"] == 72
    assert _ok(other.get("/product"))["products_count"] == 0


def test_same_quote_as_api_v1(store: tuple[WJClient, dict[str, str]], client: TestClient, org: OrgContext) -> None:
    pytest.importorskip("vitrina.catalog.api", reason="the catalog API (vitrina.catalog.api) is not in this tree yet")
    wj, _products = store
    item = {"qty": 1, "vendor_model": "RPD104", "size": 18, "configuration": configuration(CONFIGURATIONS["pendant"])}
    data = _ok(wj.post("/product-configurations", {"items": item}))
    response = client.post("/api/v1/product-configurations", json={"items": item}, headers=org.headers)
    assert response.status_code == 200, response.text
    api = response.json()["data"]
    assert api["ci"] == data["ci"] and Decimal(api["retail"]) == Decimal(str(data["retail"]))


def test_quoting_needs_the_write_scope_as_on_api_v1(store: tuple[WJClient, dict[str, str]], client: TestClient,
                                                    org: OrgContext) -> None:
    _key_id, api_key, api_secret = org.make_key(["read"])
    reader = WJClient(client)
    reader.login(api_key, api_secret)
    _ok(reader.get("/product/RRG106"))
    item = {"vendor_model": "RRG106", "configuration": configuration(CONFIGURATIONS["ring"])}
    assert reader.post("/product-configurations", {"items": item})[1]["error_code"] == 6
