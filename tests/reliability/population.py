"""Organizations filled with data through the API itself, for the walkers (tenancy, scopes, input abuse).

Every ``POST`` that documents ``201`` is tried with a synthesised body (or, for the few routes whose business
rules no schema states, a recipe's: ``recipes.py``), in passes, so a resource whose body
needs another resource's id is created once that one exists; then every list route is read to learn the ids
the creates did not return. Which collections ended up with data is reported, never assumed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
from sqlalchemy.orm import Session

from tests.reliability.apimodel import ApiDoc, IdBook, Operation, Synthesizer
from tests.reliability.recipes import STORING_ROUTES, recipe_body
from tests.support import OrgContext
from vitrina.accounts import service as accounts
from vitrina.db.session import Database

MAX_PASSES = 5


class Client(Protocol):
    """What the walkers need of a client: ``TestClient``, ``httpx.Client`` or a recording wrapper."""

    def request(self, method: str, url: str, *, json: Any = None,
                headers: dict[str, str] | None = None) -> httpx.Response: ...


@dataclass
class Tenant:
    """One organization, its credentials and what the API let us create in it."""

    org: OrgContext
    marker: str
    ids: IdBook = field(default_factory=IdBook)
    failures: dict[str, str] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return self.org.headers

    def synthesizer(self, doc: ApiDoc) -> Synthesizer:
        return Synthesizer(doc, self.ids, self.marker)

    def fill_path(self, operation: Operation) -> dict[str, str] | None:
        """Path values naming this organization's resources; None when some parameter has none."""
        values: dict[str, str] = {}
        for param in operation.path_params:
            value = self.ids.value_for_param(operation, param, values)
            if value is None:
                return None
            values[param] = value
        return values


def new_org(database: Database, name: str, *, plan: str = "enterprise",
            rate_limit_per_minute: int | None = 1_000_000) -> OrgContext:
    """An organization and its admin key, made directly in the database (like ``vitrina org create``)."""
    with database.unit_of_work() as session:
        organization, issued = accounts.create_organization(session, name=name, plan=plan,
                                                            rate_limit_per_minute=rate_limit_per_minute)
        org_id, api_key, api_secret = organization.id, issued.key.api_key, issued.api_secret

    def make_key(scopes: list[str], **kwargs: Any) -> tuple[str, str, str]:
        with database.unit_of_work() as key_session:
            return _make_key(key_session, org_id, scopes, **kwargs)

    return OrgContext(id=org_id, api_key=api_key, api_secret=api_secret, make_key=make_key)


def _make_key(session: Session, org_id: str, scopes: list[str], **kwargs: Any) -> tuple[str, str, str]:
    issued = accounts.create_api_key(session, organization_id=org_id, name="reliability key", scopes=scopes,
                                     **kwargs)
    return issued.key.id, issued.key.api_key, issued.api_secret


def populate(client: Client, doc: ApiDoc, tenant: Tenant) -> None:
    """Create what the API lets us create in ``tenant``, then learn every id its list routes show."""
    synth = tenant.synthesizer(doc)
    pending = [op for op in doc.api_operations() if op.creates and _json_or_no_body(op)]
    for _ in range(MAX_PASSES):
        progressed = False
        for operation in list(pending):
            values = tenant.fill_path(operation)
            if values is None:
                tenant.failures[operation.label] = "no value for a path parameter"
                continue
            body = recipe_body(client, doc, tenant, operation.label) or synth.body(operation)
            response = client.request("POST", operation.url(values), json=body, headers=tenant.headers)
            if response.status_code == 201:
                _record(tenant, operation, values, response)
                pending.remove(operation)
                tenant.failures.pop(operation.label, None)
                progressed = True
            else:
                tenant.failures[operation.label] = f"{response.status_code} {response.text[:300]}"
        if not progressed:
            break
    _store_through_recipes(client, doc, tenant)
    harvest(client, doc, tenant)


def _store_through_recipes(client: Client, doc: ApiDoc, tenant: Tenant) -> None:
    for label, recipe in STORING_ROUTES.items():
        operation = doc.find(*label.split(" ", 1))
        body = recipe(client, doc, tenant) if operation is not None else None
        if operation is None or body is None:
            continue
        response = client.request(operation.method, operation.path, json=body, headers=tenant.headers)
        if response.status_code == 200:
            _record(tenant, operation, {}, response)
        else:
            tenant.failures[label] = f"{response.status_code} {response.text[:300]}"


def harvest(client: Client, doc: ApiDoc, tenant: Tenant) -> None:
    for operation in doc.api_operations():
        if not operation.is_list:
            continue
        values = tenant.fill_path(operation)
        if values is None:
            continue
        response = client.request("GET", operation.url(values), headers=tenant.headers)
        if response.status_code != 200:
            continue
        for item in response.json().get("data", []):
            if isinstance(item, dict):
                tenant.ids.add(operation.path, item)


def _record(tenant: Tenant, operation: Operation, values: dict[str, str], response: httpx.Response) -> None:
    body = response.json()
    data = body.get("data", body) if isinstance(body, dict) else body
    if isinstance(data, dict):
        tenant.ids.add(operation.path, data)
        tenant.ids.add(operation.url(values), data)


def _json_or_no_body(operation: Operation) -> bool:
    media = operation.body_media_types
    return not media or "application/json" in media
