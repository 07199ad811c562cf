"""A WJ Partners client as an existing integration would write it from the seed: base64 request data, the
``authkey`` header, base64 response bodies. Tests use it instead of Vitrina's own helpers."""

from __future__ import annotations

import base64
import json
from typing import Any

from fastapi.testclient import TestClient

BASE = "/partners/1.0"


class WJClient:
    def __init__(self, http: TestClient, authkey: str | None = None) -> None:
        self.http = http
        self.authkey = authkey

    def _headers(self) -> dict[str, str]:
        headers = {"language": "en-EN", "Content-Type": "application/json"}
        if self.authkey:
            headers["authkey"] = self.authkey
        return headers

    @staticmethod
    def encode(data: dict[str, Any]) -> str:
        return json.dumps({"data": base64.b64encode(json.dumps(data).encode()).decode()})

    @staticmethod
    def decode(body: bytes) -> dict[str, Any]:
        return dict(json.loads(base64.b64decode(body)))

    def post(self, path: str, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        response = self.http.post(BASE + path, content=self.encode(data), headers=self._headers())
        return response.status_code, self.decode(response.content)

    def put(self, path: str, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        response = self.http.put(BASE + path, content=self.encode(data), headers=self._headers())
        return response.status_code, self.decode(response.content)

    def get(self, path: str, params: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        response = self.http.get(BASE + path, params=params, headers=self._headers())
        return response.status_code, self.decode(response.content)

    def login(self, api_key: str, secret_key: str) -> dict[str, Any]:
        _status, body = self.post("/user/login", {"api_key": api_key, "secret_key": secret_key})
        if body["status"] == "success":
            self.authkey = body["data"]["authkey"]
        return body
