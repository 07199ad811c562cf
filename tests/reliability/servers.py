"""Server processes the reliability suites own: in their own process group, so a ``kill -9`` takes every uvicorn
worker with it (as a crashed machine would), and with their output kept for inspection."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support import free_port, settings_env, wait_until
from vitrina.config import Settings


@dataclass
class OwnServer:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    port: int

    def client(self, headers: dict[str, str] | None = None, timeout: float = 30.0) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=headers or {}, timeout=timeout)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill_hard(self) -> None:
        """SIGKILL to the whole process group: no shutdown hook, no flush, no goodbye."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill_hard()


# Generous: on a loaded 2-core machine (other suites running) two uvicorn workers importing the app take well
# over 30 s to answer; a slow start is not what these suites test.
STARTUP_TIMEOUT = 120


def start_own_server(settings: Settings, log_path: Path, *, workers: int = 1, port: int | None = None,
                     extra_env: dict[str, str] | None = None) -> OwnServer:
    port = port or free_port()
    env = settings_env(settings) | {"PYTHONUNBUFFERED": "1"} | (extra_env or {})
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "vitrina.app:create_app", "--factory", "--host", "127.0.0.1",
             "--port", str(port), "--workers", str(workers), "--log-level", "warning"],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    server = OwnServer(url=url, process=process, log_path=log_path, port=port)

    def ready() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"server exited with {process.returncode}:\n{server.output()[-2000:]}")
        try:
            return httpx.get(f"{url}/readyz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(ready, timeout=STARTUP_TIMEOUT, message="the server")
    except BaseException:
        server.kill_hard()
        raise
    return server
