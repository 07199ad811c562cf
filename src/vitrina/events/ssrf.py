"""The SSRF guard for URLs that Vitrina itself calls (webhook targets, and any other fetch by URL).

A URL is acceptable when it is ``https`` (``http`` only if the operator allows it), carries no credentials,
names its host plainly (no decimal, hex or shortened IPv4 forms such as ``2130706433``, ``0x7f000001`` or
``127.1``), and every address the host resolves to is publicly routable: not loopback, private, link-local,
multicast, reserved, unspecified, CGNAT (100.64/10), a cloud metadata address, nor one of those embedded in
IPv6 (``::ffff:127.0.0.1``, 6to4, NAT64). The operator's allow-list (``VITRINA_WEBHOOK_ALLOW_HOSTS``: host
names, addresses or CIDRs) exempts a host name entirely, or the listed addresses.

Checking at creation is not enough: DNS can change between the check and the request (DNS rebinding).
``PinnedTransport`` therefore checks again on every request and connects to the address it just vetted, while
sending the original ``Host`` header and TLS server name, so the certificate is still verified for the host.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]

MAX_URL_LENGTH = 2048
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean...
    "169.254.170.2",  # AWS ECS task metadata
    "100.100.100.200",  # Alibaba Cloud
    "fd00:ec2::254",  # AWS over IPv6
))
# Names that only mean something inside a cloud or a host; refused before any DNS lookup.
INTERNAL_NAMES = frozenset({"localhost", "metadata", "metadata.google.internal", "instance-data",
                            "instance-data.ec2.internal"})
INTERNAL_SUFFIXES = (".localhost", ".internal", ".local", ".localdomain", ".home.arpa")
CGNAT = ipaddress.ip_network("100.64.0.0/10")
NAT64 = ipaddress.ip_network("64:ff9b::/96")
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
_NUMERIC_PART = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)$")


class UnsafeUrl(ValueError):
    """The URL is not one Vitrina may call; ``reason`` says why in words a subscriber can act on."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class UnresolvableHost(UnsafeUrl):
    """The host does not resolve (at delivery this is transient: DNS may come back)."""


@dataclass(frozen=True, slots=True)
class UrlPolicy:
    allow_http: bool = False
    allow_hosts: frozenset[str] = frozenset()
    allow_networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str], *, allow_http: bool = False) -> UrlPolicy:
        """Entries are host names (exact, case-insensitive), addresses or CIDRs."""
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        for raw in entries:
            entry = raw.strip().lower().strip("[]")
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                hosts.add(entry.rstrip("."))
        return cls(allow_http=allow_http, allow_hosts=frozenset(hosts), allow_networks=tuple(networks))

    @classmethod
    def from_settings(cls, settings: Any) -> UrlPolicy:
        return cls.parse(settings.allow_hosts, allow_http=bool(settings.webhook_allow_http))

    def allows_address(self, address: IPAddress) -> bool:
        candidates = [address]
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            candidates.append(address.ipv4_mapped)
        return any(c in network for c in candidates for network in self.allow_networks
                   if c.version == network.version)


@dataclass(frozen=True, slots=True)
class Target:
    """A vetted URL: the host as written and the address to connect to."""

    url: str
    scheme: str
    host: str
    port: int
    address: str
    addresses: tuple[str, ...] = field(default=())

    @property
    def host_is_address(self) -> bool:
        return _as_address(self.host) is not None


def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to, in the resolver's order (duplicates and IPv6 zone ids dropped)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnresolvableHost(f"the host {host!r} does not resolve") from exc
    return list(dict.fromkeys(str(info[4][0]).split("%", 1)[0] for info in infos))


def address_problem(address: IPAddress) -> str | None:
    """Why an address must not be called (None when it is publicly routable)."""
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address_problem(address.ipv4_mapped)
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            inner = address_problem(embedded)
            if inner is not None:
                return f"{inner} (embedded in an IPv6 address)"
    checks = (
        (address.is_loopback, "a loopback address"),
        (address.is_unspecified, "the unspecified address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (isinstance(address, ipaddress.IPv4Address) and address in CGNAT, "a shared (CGNAT) address"),
        (address.is_private, "a private address"),
        (address.is_reserved, "a reserved address"),
        (not address.is_global, "not a public address"),
    )
    return next((reason for failed, reason in checks if failed), None)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64 or (address in IPV4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _as_address(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def split_url(url: str, policy: UrlPolicy) -> tuple[str, str, int]:
    """The checks that need no DNS: scheme, credentials, host spelling. Returns (scheme, host, port)."""
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeUrl(f"the URL is longer than {MAX_URL_LENGTH} characters")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise UnsafeUrl("the URL contains whitespace or control characters")
    try:
        parts = urlsplit(url)
        port_number = parts.port
    except ValueError as exc:
        raise UnsafeUrl(f"the URL is malformed: {exc}") from None
    scheme = parts.scheme.lower()
    allowed = ("https", "http") if policy.allow_http else ("https",)
    if scheme not in allowed:
        raise UnsafeUrl("the URL must use https" if not policy.allow_http else "the URL must use https or http")
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrl("the URL must not carry credentials (user:password@)")
    host = _normalize_host(parts.hostname or "")
    if port_number == 0:
        raise UnsafeUrl("the URL's port must be between 1 and 65535")
    return scheme, host, port_number or (443 if scheme == "https" else 80)


def _normalize_host(hostname: str) -> str:
    host = hostname.lower().rstrip(".")
    if not host:
        raise UnsafeUrl("the URL has no host")
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise UnsafeUrl("the URL's host is not a valid domain name") from None
    if _as_address(host) is None and ":" not in host:
        parts = host.split(".")
        if len(parts) <= 4 and all(_NUMERIC_PART.match(part) for part in parts):
            raise UnsafeUrl("write an IP address in the usual dotted form (no decimal, hex, octal or short forms)")
    return host


def check_url(url: str, policy: UrlPolicy, resolve: Resolver = system_resolver) -> Target:
    """Vet ``url`` and pick the address to connect to; raises ``UnsafeUrl`` with the reason."""
    scheme, host, port = split_url(url, policy)
    trusted_name = host in policy.allow_hosts
    literal = _as_address(host)
    if not trusted_name and literal is None and (host in INTERNAL_NAMES or host.endswith(INTERNAL_SUFFIXES)):
        raise UnsafeUrl(f"the host {host!r} is an internal name")
    addresses = [str(literal)] if literal is not None else resolve(host, port)
    if not addresses:
        raise UnresolvableHost(f"the host {host!r} does not resolve")
    if not trusted_name:
        for text in addresses:
            address = ipaddress.ip_address(text)
            problem = address_problem(address)
            if problem is not None and not policy.allows_address(address):
                shown = host if literal is not None else f"{host} ({text})"
                raise UnsafeUrl(f"the host {shown} is {problem}")
    return Target(url=url, scheme=scheme, host=host, port=port, address=addresses[0], addresses=tuple(addresses))


class PinnedTransport(httpx.BaseTransport):
    """An httpx transport that vets every request's URL and connects to the vetted address.

    The URL is rewritten to the address; the ``Host`` header and the TLS server name (SNI, which is also the
    name the certificate is verified against) stay the original host. Connections are pooled per (host,
    address), so a connection opened for one name is never reused for another name on the same address.
    Redirects are the client's business; a delivery client should not follow them (each hop would be vetted
    here anyway).
    """

    def __init__(self, policy: UrlPolicy, *, resolve: Resolver = system_resolver,
                 make_inner: Callable[[], httpx.BaseTransport] | None = None, max_pools: int = 64) -> None:
        self._policy = policy
        self._resolve = resolve
        self._make_inner = make_inner or (lambda: httpx.HTTPTransport(retries=0))
        self._max_pools = max_pools
        self._pools: OrderedDict[tuple[str, str, int, str], httpx.BaseTransport] = OrderedDict()
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        target = check_url(str(request.url), self._policy, self._resolve)
        pinned = request
        if not target.host_is_address:
            headers = request.headers.copy()
            headers["Host"] = request.url.netloc.decode("ascii")
            extensions = dict(request.extensions)
            if target.scheme == "https":
                extensions["sni_hostname"] = target.host
            pinned = httpx.Request(request.method, request.url.copy_with(host=target.address), headers=headers,
                                   stream=request.stream, extensions=extensions)
        return self._pool(target).handle_request(pinned)

    def _pool(self, target: Target) -> httpx.BaseTransport:
        key = (target.scheme, target.host, target.port, target.address)
        with self._lock:
            pool = self._pools.get(key)
            if pool is not None:
                self._pools.move_to_end(key)
                return pool
            pool = self._pools[key] = self._make_inner()
            evicted = self._pools.popitem(last=False)[1] if len(self._pools) > self._max_pools else None
        if evicted is not None:
            evicted.close()
        return pool

    def close(self) -> None:
        with self._lock:
            pools, self._pools = list(self._pools.values()), OrderedDict()
        for pool in pools:
            pool.close()
