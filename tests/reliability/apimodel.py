"""The API as the OpenAPI document describes it, for suites that must cover every route that exists.

Nothing here names a domain's route: operations, path parameters and request bodies come from
``/openapi.json``, and valid bodies are synthesised from their JSON Schemas. The only contract knowledge
used is API.md §1 (id prefixes, ``/api/v1`` base, envelope shapes).
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import find, settings
from hypothesis import strategies as st

from vitrina.core.ids import new_id

API_PREFIX = "/api/v1/"
METHODS = ("get", "post", "put", "patch", "delete")
_PARAM = re.compile(r"\{([^}]+)\}")

# API.md §1: which prefix an id-bearing field or parameter carries, by the noun in its name.
NOUN_PREFIXES = {
    "item": "itm", "inventory": "itm", "location": "loc", "product": "prd", "configuration": "cfg", "tier": "tier",
    "price": "price", "customer": "cus", "transaction": "txn", "order": "ord", "passport": "psp", "transfer": "trf",
    "webhook": "whk", "delivery": "dlv", "event": "evt", "job": "job", "key": "key", "reservation": "rsv",
    "movement": "mov", "image": "img", "layer": "lyr", "upload": "upl", "user": "usr",
}
_ID_VALUE = re.compile(r"^([a-z]+)_[0-9A-HJKMNP-TV-Z]{26}$")


def id_prefix_of(value: object) -> str | None:
    """``"loc"`` for ``"loc_01J..."``; None for anything that is not one of our ids."""
    if isinstance(value, str):
        match = _ID_VALUE.match(value)
        if match:
            return match.group(1)
    return None


def prefix_for_name(name: str) -> str | None:
    """The id prefix a field or parameter named ``name`` holds (``to_location_id`` -> ``loc``), if it is an id."""
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
    if not (snake.endswith("_id") or snake == "id"):
        return None
    words = snake.removesuffix("_id").split("_")
    for word in reversed(words):
        if word in NOUN_PREFIXES:
            return NOUN_PREFIXES[word]
    return None


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    spec: dict[str, Any] = field(repr=False, compare=False)
    doc: ApiDoc = field(repr=False, compare=False)

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def path_params(self) -> list[str]:
        return _PARAM.findall(self.path)

    @property
    def is_api(self) -> bool:
        return self.path.startswith(API_PREFIX)

    @property
    def is_write(self) -> bool:
        return self.method != "GET"

    def parameters(self, location: str) -> list[dict[str, Any]]:
        return [self.doc.resolve(p) for p in self.spec.get("parameters", []) if
                self.doc.resolve(p).get("in") == location]

    @property
    def body_media_types(self) -> list[str]:
        body = self.doc.resolve(self.spec.get("requestBody", {}))
        return list(body.get("content", {}))

    @property
    def body_required(self) -> bool:
        return bool(self.doc.resolve(self.spec.get("requestBody", {})).get("required"))

    @property
    def json_body_schema(self) -> dict[str, Any] | None:
        body = self.doc.resolve(self.spec.get("requestBody", {}))
        content = body.get("content", {}).get("application/json")
        return self.doc.resolve(content["schema"]) if content and "schema" in content else None

    @property
    def success_statuses(self) -> list[int]:
        return sorted(int(code) for code in self.spec.get("responses", {}) if code.isdigit() and code < "300")

    @property
    def is_list(self) -> bool:
        """A GET whose success body is the list envelope (``data`` list plus ``pagination``)."""
        if self.method != "GET":
            return False
        schema = self._success_schema()
        return "pagination" in schema.get("properties", {})

    @property
    def creates(self) -> bool:
        return self.method == "POST" and 201 in self.success_statuses

    def _success_schema(self) -> dict[str, Any]:
        for code in ("200", "201"):
            response = self.doc.resolve(self.spec.get("responses", {}).get(code, {}))
            schema = response.get("content", {}).get("application/json", {}).get("schema")
            if schema:
                return self.doc.resolve(schema)
        return {}

    def url(self, values: dict[str, str]) -> str:
        return _PARAM.sub(lambda m: values[m.group(1)], self.path)


class ApiDoc:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.operations = [
            Operation(method.upper(), path, operation, self)
            for path, item in spec.get("paths", {}).items()
            for method, operation in item.items() if method in METHODS
        ]

    def resolve(self, node: Any) -> Any:
        while isinstance(node, dict) and "$ref" in node:
            target: Any = self.spec
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            node = target
        return node

    def api_operations(self) -> list[Operation]:
        return [op for op in self.operations if op.is_api]

    def find(self, method: str, path: str) -> Operation | None:
        """The operation at ``path``, where ``{}`` stands for a path parameter of any name."""
        pattern = re.compile("^" + re.escape(path).replace(r"\{\}", r"\{[^}]+\}") + "$")
        return next((op for op in self.operations if op.method == method and pattern.match(op.path)), None)


def collection_of(path: str, param: str) -> str:
    """``/api/v1/inventory/{item_id}/reserve/{rid}``, ``rid`` -> ``/api/v1/inventory/{item_id}/reserve``."""
    return path[: path.index("{" + param + "}")].rstrip("/")


# --------------------------------------------------------------------------- data synthesis


@dataclass
class IdBook:
    """Ids of one organization's resources, by prefix, plus the created objects by collection path."""

    by_prefix: dict[str, list[str]] = field(default_factory=dict)
    objects: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, collection: str, obj: dict[str, Any]) -> None:
        self.objects.setdefault(collection, []).append(obj)
        for value in _walk_values(obj):
            prefix = id_prefix_of(value)
            if prefix and value not in self.by_prefix.setdefault(prefix, []):
                self.by_prefix[prefix].append(value)

    def first(self, prefix: str) -> str | None:
        ids = self.by_prefix.get(prefix)
        return ids[0] if ids else None

    def all_ids(self) -> set[str]:
        return {value for ids in self.by_prefix.values() for value in ids}

    def value_for_param(self, operation: Operation, param: str, filled: dict[str, str]) -> str | None:
        """A value of this organization for a path parameter: from the objects of its collection, else by
        the id prefix its name implies."""
        collection = collection_of(operation.path, param)
        concrete = _PARAM.sub(lambda m: filled.get(m.group(1), m.group(0)), collection)
        for key in (collection, concrete):
            for obj in reversed(self.objects.get(key, [])):
                if param in obj and isinstance(obj[param], str | int):
                    return str(obj[param])
                if (param == "id" or param.endswith("_id") or param.endswith("Id")) and isinstance(
                        obj.get("id"), str):
                    return str(obj["id"])
        prefix = prefix_for_name(param)
        return self.first(prefix) if prefix else None


def _walk_values(node: Any) -> Iterator[Any]:
    if isinstance(node, dict):
        for value in node.values():
            yield from _walk_values(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk_values(value)
    else:
        yield node


class Synthesizer:
    """Builds minimal valid instances of request schemas: required fields only, realistic values, this
    organization's ids where a field holds an id, and ``marker`` in free text so the data can be recognised."""

    def __init__(self, doc: ApiDoc, ids: IdBook, marker: str) -> None:
        self.doc = doc
        self.ids = ids
        self.marker = marker
        self._counter = 0
        self._every_field = False
        self._route_prefix: str | None = None

    def unique(self) -> str:
        self._counter += 1
        return f"{self.marker}{self._counter}"

    def body(self, operation: Operation, *, optional_ids: bool = False, every_field: bool = False) -> Any:
        """A JSON body for ``operation`` (None when it takes none); a bare ``id`` field names a resource of the
        collection the route belongs to (``/inventory/bulk-update`` -> an item)."""
        schema = operation.json_body_schema
        if schema is None:
            return None
        self._route_prefix = self._collection_prefix(operation.path)
        try:
            return self.value(schema, optional_ids=optional_ids, every_field=every_field)
        finally:
            self._route_prefix = None

    def _collection_prefix(self, path: str) -> str | None:
        parts = path.split("/")
        for end in range(len(parts), 0, -1):
            for obj in self.ids.objects.get("/".join(parts[:end]), []):
                prefix = id_prefix_of(obj.get("id"))
                if prefix:
                    return prefix
        return None

    def value(self, schema: dict[str, Any], name: str = "", *, optional_ids: bool = False,
              every_field: bool = False) -> Any:
        """An instance of ``schema``: required fields only, plus optional id fields (``optional_ids``) or
        every optional field (``every_field``)."""
        self._every_field = every_field
        return self._value(schema, name, optional_ids=optional_ids)

    def _value(self, schema: dict[str, Any], name: str = "", *, optional_ids: bool = False) -> Any:
        schema = self.doc.resolve(schema)
        for keyword in ("const",):
            if keyword in schema:
                return schema[keyword]
        if schema.get("enum"):
            return schema["enum"][0]
        if schema.get("examples"):
            return schema["examples"][0]
        if "example" in schema:
            return schema["example"]
        for keyword in ("anyOf", "oneOf"):
            if keyword in schema:
                return self._value(self._pick(schema[keyword], name), name, optional_ids=optional_ids)
        if "allOf" in schema:
            merged: dict[str, Any] = {}
            for part in schema["allOf"]:
                merged.update(self.doc.resolve(part))
            return self._value(merged, name, optional_ids=optional_ids)
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "string")
        if kind == "object" or "properties" in schema:
            return self.object(schema, optional_ids=optional_ids)
        if kind == "array":
            count = max(int(schema.get("minItems", 0)), 1 if name else 0)
            return [self._value(schema.get("items", {}), _singular(name), optional_ids=optional_ids)
                    for _ in range(count)]
        if kind == "integer":
            return int(self._number(schema))
        if kind == "number":
            return self._number(schema)
        if kind == "boolean":
            return False
        return self.string(schema, name)

    def object(self, schema: dict[str, Any], *, optional_ids: bool = False) -> dict[str, Any]:
        properties = schema.get("properties", {})
        required = set(schema.get("required", []))
        result: dict[str, Any] = {}
        for prop, prop_schema in properties.items():
            prefix = prefix_for_name(prop)
            wanted = prop in required or self._every_field or (
                optional_ids and prefix is not None and self.ids.first(prefix) is not None)
            if wanted:
                result[prop] = self._value(prop_schema, prop, optional_ids=optional_ids)
        return result

    def _pick(self, options: list[dict[str, Any]], name: str) -> dict[str, Any]:
        resolved = [self.doc.resolve(o) for o in options]
        non_null = [o for o in resolved if o.get("type") != "null"]
        # Prefer a plain string for id-bearing fields; otherwise the first concrete option.
        if prefix_for_name(name):
            for option in non_null:
                if option.get("type") == "string":
                    return option
        return non_null[0] if non_null else resolved[0]

    @staticmethod
    def _number(schema: dict[str, Any]) -> float:
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0) + (1 if "exclusiveMinimum" in schema else 0))
        high = schema.get("maximum", schema.get("exclusiveMaximum", low + 100) - 1e-9)
        value = max(low, 1)
        return value if value <= high else low

    def string(self, schema: dict[str, Any], name: str) -> str:
        fmt = schema.get("format")
        lowered = name.lower()
        now = datetime.now(UTC)
        if fmt == "date-time":
            return (now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        if fmt == "date":
            return now.date().isoformat()
        if fmt == "email" or lowered.endswith("email"):
            return f"{self.unique().lower()}@example.com"
        if fmt == "uuid":
            return str(uuid.uuid4())
        if fmt in ("uri", "url") or lowered.endswith("url") or lowered in ("url", "to_address"):
            # Loopback on the discard port: the test settings allow it, and nothing is ever delivered.
            return f"https://127.0.0.1:9/{self.unique()}"
        prefix = prefix_for_name(name) or (self._route_prefix if name == "id" else None)
        if prefix:
            return self.ids.first(prefix) or new_id(prefix)
        candidates = self._named_candidates(lowered)
        pattern = schema.get("pattern")
        low, high = int(schema.get("minLength", 0)), int(schema.get("maxLength", 64))
        for candidate in candidates:
            if low <= len(candidate) <= high and (not pattern or re.search(pattern, candidate)):
                return candidate
        if pattern:
            return _from_regex(pattern, low, high)
        text = candidates[-1]
        return (text * (low // max(len(text), 1) + 1))[: max(low, min(high, len(text)))]

    def _named_candidates(self, lowered: str) -> list[str]:
        known = {"currency": "USD", "timezone": "UTC", "time_zone": "UTC", "country": "US", "language": "en",
                 "locale": "en", "gender": "unisex"}
        out = [known[lowered]] if lowered in known else []
        out.append(self.unique())
        return out


def _singular(name: str) -> str:
    return name[:-1] if name.endswith("s") else name


@functools.cache  # a search takes seconds (a 64-hex-digit key: ~5 s), and walkers build the same body many times
def _from_regex(pattern: str, low: int, high: int) -> str:
    """The simplest string matching ``pattern`` within the length bounds (Hypothesis' shrinker finds it)."""
    return str(find(st.from_regex(pattern, fullmatch=True), lambda s: low <= len(s) <= high,
                    settings=settings(database=None, max_examples=500)))
