"""Configuration validation, pricing with a breakdown, and deterministic configuration ids (API.md §4)."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.catalog.conftest import CONFIGS, quote
from tests.support import OrgContext
from vitrina.catalog import demo


def _errors(response: Any) -> dict[str, str]:
    assert response.status_code == 422, response.text
    return {e["path"]: e["message"] for e in response.json()["error"]["details"]["errors"]}


@pytest.mark.parametrize("name", sorted(demo.EXAMPLES))
def test_seed_examples_validate_and_price(client: TestClient, org: OrgContext, catalog: dict[str, Any],
                                          name: str) -> None:
    model, configuration = demo.EXAMPLES[name]
    response = quote(client, org.headers, model, configuration, qty=2)
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["vendor_model"] == model and data["ci"].startswith(f"{model}-") and data["currency"] == "USD"
    breakdown = data["breakdown"]
    subtotal = sum(Decimal(line["amount"]) for line in breakdown["lines"])
    assert Decimal(breakdown["subtotal"]) == subtotal
    retail = (subtotal * Decimal(breakdown["markup"])).quantize(Decimal("0.01"))
    assert data["retail"] == breakdown["retail"] == str(retail)
    assert data["total"] == str(retail * 2)
    assert Decimal(data["retail"]) >= Decimal(catalog[model]["retail_start"])
    stored = client.get(f"{CONFIGS}/{data['ci']}", headers=org.headers)
    assert stored.status_code == 200 and stored.json()["data"]["configuration"] == data["configuration"]


def test_pendant_breakdown_terms(client: TestClient, org: OrgContext, catalog: dict[str, Any]) -> None:
    model, configuration = demo.EXAMPLES["pendant"]
    data = quote(client, org.headers, model, configuration).json()["data"]
    lines = {(line["part"], line["item"], line.get("sku")): line for line in data["breakdown"]["lines"]}
    chain_metal = lines[("chain", "metal", "f")]
    assert chain_metal["weight_g"] == "2.1" and chain_metal["cost_per_gram"] == "51.4"
    assert chain_metal["amount"] == "107.94"
    assert lines[("pendant", "stone", "sss")]["amount"] == "380"  # 1 ct sapphire from the stone table
    assert lines[("pendant", "labor", None)]["amount"] == "60"
    assert sum(1 for line in data["breakdown"]["lines"] if line["item"] == "engraving") == 2
    # (107.94 + 20 + 174.76 + 60 + 380 + 44 + 45 + 2 x 15) x 2.2
    assert data["retail"] == "1895.74"


def test_metal_weight_scales_by_density(client: TestClient, org: OrgContext, catalog: dict[str, Any]) -> None:
    platinum = {"ring": {"metal": {"sku": "q", "color": "W"}}}
    line = next(x for x in quote(client, org.headers, "RRG106", platinum).json()["data"]["breakdown"]["lines"]
                if x["item"] == "metal")
    # 4.2 g of 14K (13.07 g/cm³) is 4.2 x 15.58 / 13.07 g of 18K
    assert Decimal(line["weight_g"]) == (Decimal("4.2") * Decimal("15.58") / Decimal("13.07")).quantize(
        Decimal("0.000001")).normalize()
    assert line["reference_metal"] == "f"


def test_ci_is_canonical(client: TestClient, org: OrgContext, catalog: dict[str, Any]) -> None:
    model, configuration = demo.EXAMPLES["pendant"]
    ci = quote(client, org.headers, model, configuration).json()["data"]["ci"]
    shuffled = {k: configuration[k] for k in reversed(list(configuration))}
    shuffled["pendant"] = {"metal": {"color": "y", "sku": "F"},
                           "stone": list(reversed(configuration["pendant"]["stone"])), "stones": 3}
    shuffled["pendant"]["stone"] = [{**s, "sku": s["sku"].upper(), "shape": "RD"} for s in shuffled["pendant"]["stone"]]
    assert quote(client, org.headers, model.lower(), shuffled).json()["data"]["ci"] == ci
    changed = copy.deepcopy(configuration)
    changed["pendant"]["stone"][0]["position"] = 4
    assert quote(client, org.headers, model, changed).json()["data"]["ci"] != ci
    other_text = copy.deepcopy(configuration)
    other_text["engraving"]["e0"]["text"] = "abc"
    assert quote(client, org.headers, model, other_text).json()["data"]["ci"] != ci
    assert quote(client, org.headers, model, configuration, size=18).json()["data"]["ci"] != ci


def test_every_bad_choice_is_named(client: TestClient, org: OrgContext, catalog: dict[str, Any]) -> None:
    model, configuration = demo.EXAMPLES["pendant"]
    bad = copy.deepcopy(configuration)
    bad["chain"]["metal"] = {"sku": "zz", "color": "R"}
    bad["chain"]["length"] = 17
    bad["pendant"]["metal"]["color"] = "G"
    bad["pendant"]["stone"][0]["sku"] = "opal"
    bad["pendant"]["stone"][1]["position"] = 2
    bad["pendant"]["stone"][2]["position"] = 9
    bad["engraving"] = {"e0": {"font": "comic", "text": "ABC"}, "e1": {"font": "satisfy", "text": "X" * 13},
                        "e7": {"font": "satisfy", "text": "A"}}
    bad["earring"] = {}
    errors = _errors(quote(client, org.headers, model, bad, size=22))
    assert set(errors) >= {
        "$.items.configuration.chain.metal.sku", "$.items.configuration.chain.length",
        "$.items.configuration.pendant.metal.color", "$.items.configuration.pendant.stone[0].sku",
        "$.items.configuration.pendant.stone[2].position", "$.items.configuration.engraving.e0.font",
        "$.items.configuration.engraving.e1.text", "$.items.configuration.engraving.e7",
        "$.items.configuration.earring", "$.items.size"}
    assert errors["$.items.configuration.pendant.stone[1].position"] == "position 2 is already taken"
    assert client.get("/api/v1/events", params={"type": "product.created"}, headers=org.headers).status_code == 200


def test_stone_count_rules(client: TestClient, org: OrgContext, catalog: dict[str, Any]) -> None:
    stones = [{"sku": "fsa", "shape": "rd", "weight": "e", "position": n} for n in range(1, 5)]
    errors = _errors(quote(client, org.headers, "RRG106", {"ring": {"metal": {"sku": "f", "color": "Y"},
                                                                    "stone": stones, "stones": 3}}))
    assert "stones_max" in errors["$.items.configuration.ring.stone"]
    assert "$.items.configuration.ring.stones" in errors
    wrong_weight = [{"sku": "fsa", "shape": "ov", "weight": "z", "position": 1}]
    errors = _errors(quote(client, org.headers, "RRG106", {"ring": {"metal": {"sku": "f", "color": "Y"},
                                                                    "stone": wrong_weight}}))
    assert set(errors) == {"$.items.configuration.ring.stone[0].shape", "$.items.configuration.ring.stone[0].weight"}


def test_required_parts_and_shapes(client: TestClient, org: OrgContext, catalog: dict[str, Any]) -> None:
    errors = _errors(quote(client, org.headers, "RPD104", {"pendant": {"metal": {"sku": "f", "color": "Y"}}}))
    assert errors == {"$.items.configuration.chain": "required"}
    errors = _errors(quote(client, org.headers, "RPD104", {"chain": "gold", "pendant": {"metal": "f"}}))
    assert set(errors) == {"$.items.configuration.chain", "$.items.configuration.pendant.metal"}
    errors = _errors(client.post(CONFIGS, json={"items": {"vendor_model": "RPD104", "configuration": []}},
                                 headers=org.headers))
    assert "$.items.configuration" in errors


def test_bridal_choices(client: TestClient, org: OrgContext, catalog: dict[str, Any]) -> None:
    model, configuration = demo.EXAMPLES["bridal"]
    data = quote(client, org.headers, model, configuration, size=6.5).json()["data"]
    center = next(x for x in data["breakdown"]["lines"] if x["item"] == "center_stone")
    assert (center["material_sku"], center["shape"], center["weight"], center["quality"]) == ("dmnd", "RD", "F", "SI2")
    assert center["amount"] == "391"  # 575 x 0.68 for an SI2 1/3 ct round
    halo = next(x for x in data["breakdown"]["lines"] if x["item"] == "additional_stones")
    assert halo["count"] == 22
    pave = copy.deepcopy(configuration)
    pave["shank"]["side_settings"].update({"stone": "dmnd", "length": "sl2"})
    lines = quote(client, org.headers, model, pave).json()["data"]["breakdown"]["lines"]
    assert next(x for x in lines if x["item"] == "side_settings")["count"] == 16
    bad = copy.deepcopy(configuration)
    bad["head"]["center_stone"].update({"stone_shape": "HEART", "stone_clarity": "FL"})
    del bad["shank"]["carving"]
    bad["head"]["type"] = "HS9"
    errors = _errors(quote(client, org.headers, model, bad, size=14))
    assert set(errors) == {"$.items.configuration.head.center_stone.stone_shape",
                           "$.items.configuration.head.center_stone.stone_clarity",
                           "$.items.configuration.shank.carving", "$.items.configuration.head.type", "$.items.size"}
    with_band = copy.deepcopy(configuration)
    with_band["band"] = {"metal": {"sku": "p", "color": "W"}, "stone": [{"sku": "dmnd", "position": 1}]}
    assert Decimal(quote(client, org.headers, model, with_band).json()["data"]["retail"]) > Decimal(data["retail"])


def test_unknown_product_and_list_of_items(client: TestClient, org: OrgContext, catalog: dict[str, Any]) -> None:
    missing = quote(client, org.headers, "NOPE", {})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "PRODUCT_NOT_FOUND"
    assert missing.json()["error"]["details"]["path"] == "$.items.vendor_model"
    items = [{"qty": 1, "vendor_model": m, "configuration": c} for m, c in (demo.EXAMPLES["ring"],
                                                                             demo.EXAMPLES["earring"])]
    both = client.post(CONFIGS, json={"items": items}, headers=org.headers)
    assert both.status_code == 200 and [d["vendor_model"] for d in both.json()["data"]] == ["RRG106", "REA011"]
    items[1]["configuration"] = {"earring": {}}
    errors = _errors(client.post(CONFIGS, json={"items": items}, headers=org.headers))
    assert "$.items[1].configuration.earring.metal" in errors
    assert client.post(CONFIGS, json={"items": []}, headers=org.headers).status_code == 422
    simple = quote(client, org.headers, "ACME-123", {})
    assert simple.status_code == 200 and simple.json()["data"]["retail"] == "123.00"


def test_stored_configuration_is_per_organization(client: TestClient, org: OrgContext, other_org: OrgContext,
                                                  catalog: dict[str, Any]) -> None:
    ci = quote(client, org.headers, *demo.EXAMPLES["ring"]).json()["data"]["ci"]
    assert client.get(f"{CONFIGS}/{ci}", headers=other_org.headers).status_code == 404
    missing = client.get(f"{CONFIGS}/RRG106-AAAA", headers=org.headers)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "CONFIGURATION_NOT_FOUND"
    assert quote(client, other_org.headers, *demo.EXAMPLES["ring"]).status_code == 404


def test_disabled_product_cannot_be_configured(client: TestClient, org: OrgContext, catalog: dict[str, Any]) -> None:
    assert client.put("/api/v1/products/RRG106", json={"status": 9}, headers=org.headers).status_code == 200
    response = quote(client, org.headers, *demo.EXAMPLES["ring"])
    assert response.status_code == 409 and response.json()["error"]["code"] == "PRODUCT_UNAVAILABLE"
