"""Tenancy: organization A's credential with organization B's ids, in every id-bearing position of every route
in the OpenAPI document, gets 404 (never B's data) and changes nothing in either organization.

Positions tried: path parameters, list filters (query parameters holding ids) and request-body fields holding
ids. B's ids are real (created through the API) wherever a create route exists; otherwise well-formed random ids.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.reliability import figures
from tests.reliability.apimodel import ApiDoc, Operation, id_prefix_of, prefix_for_name
from tests.reliability.conftest import operations
from tests.reliability.dbstate import changed_tables, digest
from tests.reliability.population import Tenant
from vitrina.core.ids import new_id
from vitrina.db.session import Database

PATH_ID_ROUTES = operations(lambda op: op.is_api and bool(op.path_params))
FILTER_ROUTES = operations(lambda op: op.is_api and op.method == "GET" and any(
    prefix_for_name(p["name"]) for p in op.parameters("query")))
BODY_ROUTES = operations(lambda op: op.is_api and op.is_write and op.json_body_schema is not None)


def _b_values(operation: Operation, b: Tenant) -> tuple[dict[str, str], bool]:
    """B's value for each path parameter, or a random well-formed id; and whether all of them are real."""
    values: dict[str, str] = {}
    real = True
    for param in operation.path_params:
        value = b.ids.value_for_param(operation, param, values)
        if value is None:
            prefix = prefix_for_name(param) or _prefix_from_siblings(operation, param, b)
            if prefix is None:
                pytest.skip(f"{{{param}}} is not an id and B has no value for it")
            value, real = new_id(prefix), False
        values[param] = value
    return values, real


def _prefix_from_siblings(operation: Operation, param: str, tenant: Tenant) -> str | None:
    """A bare ``{id}``: the prefix of the ids listed by its collection in any organization we filled."""
    collection = operation.path[: operation.path.index("{" + param + "}")].rstrip("/")
    for obj in tenant.ids.objects.get(collection, []):
        prefix = id_prefix_of(obj.get("id"))
        if prefix:
            return prefix
    return None


def _assert_no_leak(text: str, b: Tenant, sent: set[str]) -> None:
    assert b.marker not in text, "B's data appears in the response"
    leaked = sorted(i for i in b.ids.all_ids() - sent if i in text)
    assert not leaked, f"B's ids appear in the response: {leaked[:5]}"


@pytest.mark.parametrize("operation", PATH_ID_ROUTES)
def test_path_ids_of_another_organization_are_404(operation: Operation, client: TestClient, api_doc: ApiDoc,
                                                   tenants: tuple[Tenant, Tenant], database: Database) -> None:
    a, b = tenants
    values, real = _b_values(operation, b)
    url = operation.url(values)
    if real and operation.method == "GET":
        # The id is B's own: B sees it, so A's 404 below is tenancy and not a bad id.
        assert client.get(url, headers=b.headers).status_code < 400, f"B cannot read its own {url}"
    body = a.synthesizer(api_doc).body(operation)
    before = digest(database.engine, [a.org.id, b.org.id])
    response = client.request(operation.method, url, json=body, headers=a.headers)
    assert changed_tables(before, digest(database.engine, [a.org.id, b.org.id])) == [], "something changed"
    figures.count("tenancy.path_requests")
    figures.count("tenancy.path_requests_with_real_ids" if real else "tenancy.path_requests_with_random_ids")
    assert response.status_code == 404, f"{operation.label} -> {response.status_code}: {response.text[:300]}"
    _assert_no_leak(response.text, b, set(values.values()))


def _returned_nothing(response: httpx.Response) -> bool:
    """An empty page: JSON with no data, or a CSV export with nothing but its header row."""
    if response.headers.get("content-type", "").startswith("text/csv"):
        return len([line for line in response.text.splitlines() if line.strip()]) <= 1
    return response.json().get("data") in ([], None, {})


@pytest.mark.parametrize("operation", FILTER_ROUTES)
def test_list_filters_with_another_organizations_ids_show_nothing(
        operation: Operation, client: TestClient, tenants: tuple[Tenant, Tenant]) -> None:
    a, b = tenants
    path_values = a.fill_path(operation)
    if path_values is None:
        pytest.skip("A has no value for a path parameter")
    tried = 0
    for param in operation.parameters("query"):
        prefix = prefix_for_name(param["name"])
        foreign = b.ids.first(prefix) if prefix else None
        if foreign is None:
            continue
        response = client.get(operation.url(path_values), params={param["name"]: foreign}, headers=a.headers)
        tried += 1
        figures.count("tenancy.filter_requests")
        assert response.status_code in (200, 404, 422), f"{param['name']}: {response.status_code} {response.text}"
        if response.status_code == 200:
            assert _returned_nothing(response), f"{param['name']} filter returned data"
        _assert_no_leak(response.text, b, {foreign})
    if not tried:
        pytest.skip("B has no resource of the kinds these filters take")


def _id_positions(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _id_positions(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _id_positions(value, (*path, index))
    elif id_prefix_of(node):
        yield path, str(node)


def _replaced(body: Any, path: tuple[Any, ...], value: str) -> Any:
    result = copy.deepcopy(body)
    target = result
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return result


@pytest.mark.parametrize("operation", BODY_ROUTES)
def test_body_ids_of_another_organization_are_refused(operation: Operation, client: TestClient, api_doc: ApiDoc,
                                                      tenants: tuple[Tenant, Tenant], database: Database) -> None:
    a, b = tenants
    path_values = a.fill_path(operation)
    if path_values is None:
        pytest.skip("A has no value for a path parameter")
    body = a.synthesizer(api_doc).body(operation, optional_ids=True)
    positions = [(path, value) for path, value in _id_positions(body)
                 if value in a.ids.all_ids() and b.ids.first(id_prefix_of(value) or "")]
    if not positions:
        pytest.skip("the body holds no id of a kind both organizations have")
    for path, value in positions:
        foreign = b.ids.first(id_prefix_of(value) or "")
        assert foreign is not None
        before = digest(database.engine, [a.org.id, b.org.id])
        response = client.request(operation.method, operation.url(path_values), json=_replaced(body, path, foreign),
                                  headers=a.headers)
        figures.count("tenancy.body_requests")
        where = "$." + ".".join(str(p) for p in path)
        assert changed_tables(before, digest(database.engine, [a.org.id, b.org.id])) == [], f"{where} changed data"
        assert response.status_code in (404, 409, 422), f"{where} -> {response.status_code}: {response.text[:300]}"
        _assert_no_leak(response.text, b, {foreign})
