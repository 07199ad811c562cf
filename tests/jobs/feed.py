"""A POS feed served on 127.0.0.1 by the test itself (a real HTTP server in a thread)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

# A page: (status, headers, body) or a callable writing the body itself (for feeds that misbehave).
Page = tuple[int, dict[str, str], bytes] | Callable[[BaseHTTPRequestHandler], None]


@dataclass
class Feed:
    server: ThreadingHTTPServer
    pages: dict[str, Page] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)

    @property
    def base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str) -> str:
        return self.base + path


def serve() -> Iterator[Feed]:
    feed: Feed

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            feed.requests.append({"path": parts.path, "query": parse_qs(parts.query),
                                  "headers": dict(self.headers.items())})
            page = feed.pages.get(parts.path)
            if page is None:
                self.send_response(404)
                self.send_header("content-length", "0")
                self.end_headers()
                return
            if callable(page):
                page(self)
                return
            status, headers, body = page
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    feed = Feed(server)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield feed
    finally:
        server.shutdown()
        server.server_close()


def endless(handler: BaseHTTPRequestHandler) -> None:
    """A JSON feed that never ends (until the client hangs up)."""
    handler.send_response(200)
    handler.send_header("content-type", "application/json")
    handler.end_headers()
    try:
        handler.wfile.write(b"[")
        while True:
            handler.wfile.write(b'{"external_id": "X", "quantity": 1},' * 1000)
            time.sleep(0.001)
    except OSError:
        pass
