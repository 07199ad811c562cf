"""The SSRF guard: URL policy, address classes, allow-lists, and the pinned transport (DNS rebinding)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from vitrina.events.ssrf import (
    PinnedTransport,
    UnresolvableHost,
    UnsafeUrl,
    UrlPolicy,
    check_url,
)

STRICT = UrlPolicy()
PUBLIC = "93.184.216.34"


def fake_dns(table: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise UnresolvableHost(f"the host {host!r} does not resolve")
        return table[host]

    return resolve


@pytest.mark.parametrize("url", [
    "http://169.254.169.254/latest/meta-data/", "https://169.254.169.254/latest/meta-data/",
    "https://127.0.0.1/hook", "https://localhost/hook", "https://[::1]/hook", "https://0.0.0.0/hook",
    "https://10.0.0.1/hook", "https://172.16.0.1/hook", "https://192.168.1.1/hook", "https://100.64.0.1/hook",
    "https://2130706433/hook", "https://0x7f000001/hook", "https://127.1/hook", "https://0177.0.0.1/hook",
    "https://[::ffff:127.0.0.1]/hook", "https://[::ffff:169.254.169.254]/hook", "https://[fd00:ec2::254]/",
    "https://[fe80::1]/hook", "https://[2002:7f00:1::]/hook", "https://[64:ff9b::a9fe:a9fe]/hook",
    "https://224.0.0.1/hook", "https://240.0.0.1/hook", "https://255.255.255.255/hook", "https://[::]/hook",
    "https://metadata.google.internal/computeMetadata/v1/", "https://printer.local/", "https://app.localhost/",
    "file:///etc/passwd", "gopher://127.0.0.1:6379/_PING", "ftp://example.com/", "http://example.com/hook",
    "https://user:pass@example.com/hook", "https://example.com:0/", "https://example.com:99999/", "https:///hook",
    "https://exa mple.com/", "https://example.com/\nX: y", "//example.com/hook", "example.com/hook",
])
def test_refused_without_allow_list(url: str) -> None:
    resolve = fake_dns({"example.com": [PUBLIC]})
    with pytest.raises(UnsafeUrl):
        check_url(url, STRICT, resolve)


@pytest.mark.parametrize(("host", "addresses"), [
    ("internal.example.com", ["10.1.2.3"]),
    ("rebind.example.com", ["127.0.0.1"]),
    ("mixed.example.com", [PUBLIC, "192.168.0.10"]),  # one bad address taints the name
    ("cgnat.example.com", ["100.127.0.1"]),
    ("v6.example.com", ["::ffff:10.0.0.1"]),
    ("meta.example.com", ["169.254.169.254"]),
])
def test_names_resolving_to_forbidden_addresses_are_refused(host: str, addresses: list[str]) -> None:
    with pytest.raises(UnsafeUrl, match="address"):
        check_url(f"https://{host}/hook", STRICT, fake_dns({host: addresses}))


def test_public_targets_pass_and_are_pinned_to_the_first_address() -> None:
    target = check_url("https://hooks.example.com:8443/in?x=1", STRICT,
                       fake_dns({"hooks.example.com": [PUBLIC, "2606:2800:220:1:248:1893:25c8:1946"]}))
    assert (target.scheme, target.host, target.port, target.address) == ("https", "hooks.example.com", 8443, PUBLIC)
    assert check_url("https://[2606:2800:220:1:248:1893:25c8:1946]/", STRICT).port == 443
    assert check_url(f"https://{PUBLIC}/", STRICT).address == PUBLIC
    assert check_url("https://HOOKS.Example.COM./", STRICT, fake_dns({"hooks.example.com": [PUBLIC]})).host == (
        "hooks.example.com")


def test_unresolvable_hosts_are_refused() -> None:
    with pytest.raises(UnresolvableHost):
        check_url("https://nowhere.example.com/", STRICT, fake_dns({}))


def test_allow_list_by_name_address_and_cidr() -> None:
    policy = UrlPolicy.parse(["receiver.corp", "127.0.0.1", "10.20.0.0/16", "[::1]"], allow_http=True)
    dns = fake_dns({"receiver.corp": ["10.9.9.9"], "other.corp": ["10.20.3.4"], "far.corp": ["10.30.0.1"]})
    assert check_url("http://receiver.corp/hook", policy, dns).address == "10.9.9.9"
    assert check_url("http://127.0.0.1:8080/hook", policy, dns).port == 8080
    assert check_url("http://[::ffff:127.0.0.1]/hook", policy, dns).host == "::ffff:127.0.0.1"
    assert check_url("http://[::1]/hook", policy, dns).address == "::1"
    assert check_url("https://other.corp/hook", policy, dns).address == "10.20.3.4"
    with pytest.raises(UnsafeUrl):
        check_url("https://far.corp/hook", policy, dns)
    with pytest.raises(UnsafeUrl):
        check_url("https://localhost/hook", policy, dns)  # the name is not listed, only the address
    with pytest.raises(UnsafeUrl):
        check_url("ftp://receiver.corp/hook", policy, dns)


def test_http_needs_the_operator() -> None:
    dns = fake_dns({"example.com": [PUBLIC]})
    with pytest.raises(UnsafeUrl, match="https"):
        check_url("http://example.com/", STRICT, dns)
    assert check_url("http://example.com/", UrlPolicy(allow_http=True), dns).port == 80


def test_policy_from_settings(settings) -> None:  # type: ignore[no-untyped-def]
    policy = UrlPolicy.from_settings(settings)
    assert policy.allow_http is True
    assert "localhost" in policy.allow_hosts


# --- the pinned transport -----------------------------------------------------------------------------------

def test_pinned_transport_connects_to_the_vetted_address_with_the_original_host_and_sni() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    transport = PinnedTransport(STRICT, resolve=fake_dns({"hooks.example.com": [PUBLIC]}),
                                make_inner=lambda: httpx.MockTransport(answer))
    with httpx.Client(transport=transport) as client:
        assert client.post("https://hooks.example.com:8443/in?x=1", content=b"{}").status_code == 204
    request = seen[0]
    assert request.url.host == PUBLIC and request.url.port == 8443 and request.url.path == "/in"
    assert request.headers["host"] == "hooks.example.com:8443"
    assert request.extensions["sni_hostname"] == "hooks.example.com"
    assert request.content == b"{}"


def test_dns_rebinding_between_check_and_delivery_is_refused() -> None:
    answers = iter([[PUBLIC], ["127.0.0.1"]])

    def rebinding(host: str, port: int) -> list[str]:
        return next(answers)

    transport = PinnedTransport(STRICT, resolve=rebinding, make_inner=lambda: httpx.MockTransport(
        lambda request: httpx.Response(200)))
    with httpx.Client(transport=transport) as client:
        assert client.get("https://hooks.example.com/").status_code == 200
        with pytest.raises(UnsafeUrl, match="loopback"):
            client.get("https://hooks.example.com/")


class _Echo(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        reply = f"{self.headers['host']}|{body.decode()}".encode()
        self.send_response(200)
        self.send_header("content-length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def echo_server() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


def test_pinned_transport_reaches_a_real_allow_listed_receiver(echo_server: int) -> None:
    policy = UrlPolicy.parse(["127.0.0.1"], allow_http=True)
    transport = PinnedTransport(policy, resolve=fake_dns({"receiver.test": ["127.0.0.1"]}))
    with httpx.Client(transport=transport) as client:
        response = client.post(f"http://receiver.test:{echo_server}/hook", content=b"hello")
    assert response.text == f"receiver.test:{echo_server}|hello"
    transport.close()


def test_pinned_transport_refuses_a_real_loopback_receiver_when_not_allowed(echo_server: int) -> None:
    transport = PinnedTransport(UrlPolicy(allow_http=True))
    with httpx.Client(transport=transport) as client, pytest.raises(UnsafeUrl):
        client.post(f"http://127.0.0.1:{echo_server}/hook", content=b"hello")
