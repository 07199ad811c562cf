"""Process helpers for the harness: servers, wrk, pgbench, RSS."""

from __future__ import annotations

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

LUA = Path(__file__).parent / "lua" / "requests.lua"


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


def start_uvicorn(target: str, *, workers: int, env: dict[str, str], factory: bool = False,
                  log: Path | None = None) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", target, "--host", "127.0.0.1", "--port", str(port),
               "--workers", str(workers), "--log-level", "warning", "--no-access-log",
               "--loop", "uvloop", "--http", "httptools"]
    if factory:
        command.append("--factory")
    stream = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115 - lives as long as the server
    process = subprocess.Popen(command, env=env, stdout=stream, stderr=subprocess.STDOUT,
                               cwd=Path(__file__).parent.parent)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{target} exited with {process.returncode}; see {log}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code < 500:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        raise RuntimeError(f"{target} did not start")
    # Let every worker finish importing before measuring.
    time.sleep(1.0)
    return process, url


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def worker_rss_mb(parent_pid: int) -> list[float]:
    """Resident memory of each uvicorn worker (the children of the master process)."""
    sizes = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            status = (proc / "status").read_text()
        except OSError:
            continue
        ppid = re.search(r"^PPid:\s+(\d+)", status, re.M)
        rss = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
        if ppid and rss and int(ppid.group(1)) == parent_pid:
            sizes.append(round(int(rss.group(1)) / 1024, 1))
    return sorted(sizes)


def ensure_wrk() -> str:
    path = shutil.which("wrk")
    if path:
        return path
    subprocess.run(["bash", str(Path(__file__).parent.parent / "scripts" / "system-deps.sh")], check=False)
    path = shutil.which("wrk")
    if not path:
        raise RuntimeError("wrk is not installed and could not be installed (apt-get install wrk)")
    return path


def run_wrk(url: str, requests_file: Path, *, connections: int, seconds: int, auth: str | None = None,
            threads: int = 2, timeout_s: int = 10) -> WrkResult:
    env = dict(os.environ)
    if auth:
        env["BENCH_AUTH"] = auth
    command = [ensure_wrk(), "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s",
               "--timeout", f"{timeout_s}s", "-s", str(LUA), url, "--", str(requests_file)]
    output = subprocess.run(command, env=env, capture_output=True, text=True, check=True,
                            timeout=seconds + 120).stdout
    line = next(line for line in output.splitlines() if line.startswith("BENCH_JSON "))
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


def pgbench_tps(dbname: str, *, clients: int, seconds: int, host: str = "127.0.0.1",
                user: str = "postgres") -> float:
    """``pgbench -N`` (simple-update, no branch contention): the durable-write ceiling of this machine."""
    base = ["-h", host, "-U", user]
    subprocess.run(["pgbench", *base, "-i", "-q", "-s", "10", dbname], check=True, capture_output=True)
    output = subprocess.run(["pgbench", *base, "-N", "-n", "-c", str(clients), "-j", "2", "-T", str(seconds),
                             dbname], check=True, capture_output=True, text=True).stdout
    match = re.search(r"tps = ([\d.]+) \((?:without initial connection time|excluding connections establishing)\)",
                      output) or re.search(r"tps = ([\d.]+)", output)
    if not match:
        raise RuntimeError(f"could not read pgbench output:\n{output}")
    return float(match.group(1))
