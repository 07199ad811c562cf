"""Process helpers for the harness: servers, wrk, pgbench, RSS."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
LUA = ROOT / "bench" / "lua" / "requests.lua"


@dataclass
class WrkResult:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    errors: int

    def as_dict(self) -> dict[str, float | int]:
        return self.__dict__.copy()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(command: list[str], *, env: dict[str, str], log: Path | None = None,
                 name: str = "server") -> tuple[subprocess.Popen[bytes], str]:
    """Start ``command`` (which gets ``--port``) and wait until it answers ``/healthz``."""
    port = free_port()
    stream = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115 - lives as long as the server
    process = subprocess.Popen([*command, "--port", str(port)], env=env, stdout=stream, stderr=subprocess.STDOUT,
                               cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}; see {log}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code < 500:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        stop(process)
        raise RuntimeError(f"{name} did not start within 90 s; see {log}")
    _warm_up(url)
    return process, url


def _warm_up(url: str) -> None:
    # Each worker imports lazily and fills its caches on first use: a few requests, so the measurement starts warm.
    for _ in range(20):
        try:
            httpx.get(f"{url}/healthz", timeout=2)
        except httpx.HTTPError:
            time.sleep(0.1)


def vitrina_command(workers: int) -> list[str]:
    """The real server, exactly as an operator starts it."""
    return [str(Path(sys.executable).with_name("vitrina")), "serve", "--host", "127.0.0.1", "--workers", str(workers)]


def ceiling_command(workers: int) -> list[str]:
    """The bare ASGI app on the same uvicorn settings as ``vitrina serve`` (auto loop/parser, no access log)."""
    return [sys.executable, "-m", "uvicorn", "bench.ceiling:app", "--host", "127.0.0.1", "--workers", str(workers),
            "--log-level", "warning", "--no-access-log"]


def openapi_routes(url: str) -> set[tuple[str, str]]:
    """``(method, path)`` of every operation the running server documents."""
    document = httpx.get(f"{url}/openapi.json", timeout=30).json()
    return {(method.lower(), path) for path, operations in document.get("paths", {}).items()
            for method in operations if method.lower() in {"get", "post", "put", "patch", "delete"}}


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def worker_rss_mb(parent_pid: int) -> list[float]:
    """Resident memory of each server worker: the master's children started by multiprocessing's spawn (not its
    resource tracker), or the master itself when it serves alone (``--workers 1``)."""
    sizes = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            status = (proc / "status").read_text()
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = re.search(r"^PPid:\s+(\d+)", status, re.M)
        if ppid and int(ppid.group(1)) == parent_pid and b"spawn_main" in cmdline:
            sizes.append(_rss_mb(status))
    if not sizes:
        with contextlib.suppress(OSError):
            sizes.append(_rss_mb(Path(f"/proc/{parent_pid}/status").read_text()))
    return sorted(sizes)


def _rss_mb(status: str) -> float:
    rss = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
    return round(int(rss.group(1)) / 1024, 1) if rss else 0.0


def ensure_tool(name: str, package: str) -> str:
    """The path of a system tool, installed by scripts/system-deps.sh (Debian, as root) when missing."""
    path = shutil.which(name)
    if path:
        return path
    subprocess.run(["bash", str(ROOT / "scripts" / "system-deps.sh")], check=False)
    path = shutil.which(name)
    if not path:
        raise RuntimeError(f"{name} is not installed and could not be installed (apt-get install {package})")
    return path


def run_wrk(url: str, requests_file: Path, *, connections: int, seconds: int, auth: str | None = None,
            threads: int = 2, timeout_s: int = 10) -> WrkResult:
    env = dict(os.environ)
    if auth:
        env["BENCH_AUTH"] = auth
    command = [ensure_tool("wrk", "wrk"), "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s",
               "--timeout", f"{timeout_s}s", "-s", str(LUA), url, "--", str(requests_file)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=seconds + 120)
    line = next((line for line in done.stdout.splitlines() if line.startswith("BENCH_JSON ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {(done.stderr or done.stdout).strip()[-500:]}")
    data = json.loads(line.removeprefix("BENCH_JSON "))
    elapsed = data["duration_us"] / 1e6
    return WrkResult(requests=data["requests"], seconds=round(elapsed, 2),
                     rps=round(data["requests"] / elapsed, 1), p50_ms=round(data["p50_us"] / 1000, 2),
                     p90_ms=round(data["p90_us"] / 1000, 2), p99_ms=round(data["p99_us"] / 1000, 2),
                     errors=data["status_errors"] + data["socket_errors"])


def write_requests(path: Path, lines: list[tuple[str, str, str]]) -> Path:
    with path.open("w") as handle:
        for method, url_path, body in lines:
            if "\t" in body or "\n" in body:
                raise ValueError("request bodies must be single-line JSON")
            handle.write(f"{method}\t{url_path}\t{body}\n")
    return path


def pgbench_tps(dbname: str, *, clients: int, seconds: int, scale: int = 10, host: str = "127.0.0.1",
                user: str = "postgres") -> float:
    """``pgbench -N`` (simple-update, no branch contention): the durable-write ceiling of this machine."""
    pgbench = ensure_tool("pgbench", "postgresql-contrib")
    base = ["-h", host, "-U", user]
    subprocess.run([pgbench, *base, "-i", "-q", "-s", str(scale), dbname], check=True, capture_output=True)
    output = subprocess.run([pgbench, *base, "-N", "-n", "-c", str(clients), "-j", "2", "-T", str(seconds),
                             dbname], check=True, capture_output=True, text=True).stdout
    match = re.search(r"tps = ([\d.]+) \((?:without initial connection time|excluding connections establishing)\)",
                      output) or re.search(r"tps = ([\d.]+)", output)
    if not match:
        raise RuntimeError(f"could not read pgbench output:\n{output}")
    return float(match.group(1))
