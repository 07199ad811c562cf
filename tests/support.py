"""Test helpers shared by every domain's tests (fixtures live in conftest.py)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from vitrina.config import Settings


def wait_until(predicate: Callable[[], Any], *, timeout: float = 10.0, interval: float = 0.05,
               message: str = "condition") -> Any:
    """Poll ``predicate`` until it returns a truthy value or the deadline passes (no fixed sleeps)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that makes a child process (server, worker, CLI) see the same settings."""
    env = dict(os.environ)
    for name, value in settings.model_dump().items():
        if value is not None:
            env[f"VITRINA_{name.upper()}"] = str(value)
    return env


@dataclass
class OrgContext:
    """A fresh organization with an admin credential; ``make_headers`` mints more keys."""

    id: str
    api_key: str
    api_secret: str
    make_key: Callable[..., tuple[str, str, str]] = field(repr=False)

    @property
    def headers(self) -> dict[str, str]:
        return {"X-API-Key": f"{self.api_key}:{self.api_secret}"}

    def make_headers(self, scopes: list[str], **kwargs: Any) -> dict[str, str]:
        _key_id, api_key, api_secret = self.make_key(scopes, **kwargs)
        return {"X-API-Key": f"{api_key}:{api_secret}"}


@dataclass
class LiveServer:
    url: str
    process: subprocess.Popen[bytes]
    env: dict[str, str]

    def client(self, headers: dict[str, str] | None = None, timeout: float = 30.0) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=headers or {}, timeout=timeout)


def start_server(settings: Settings, *, workers: int = 1, extra_env: dict[str, str] | None = None,
                 log_path: Path | None = None) -> LiveServer:
    port = free_port()
    env = settings_env(settings) | (extra_env or {})
    stream = open(log_path, "wb") if log_path else subprocess.DEVNULL  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "vitrina.app:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(workers), "--log-level", "warning"],
        env=env, stdout=stream, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"server exited with {process.returncode}")
        try:
            return httpx.get(f"{url}/readyz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(healthy, timeout=120, message="the live server")  # a loaded CI machine starts slowly
    except BaseException:
        process.kill()  # never leak a server that did not become ready
        process.wait(timeout=10)
        raise
    return LiveServer(url=url, process=process, env=env)


def stop_server(server: LiveServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()
