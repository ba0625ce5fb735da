"""The outbound guard: webhook, sms, push and SMTP destinations must be public addresses.

A destination whose host resolves to a loopback, private, link-local, multicast, unspecified or reserved
address, in any spelling (decimal `2130706433`, octal, hex, IPv4-mapped IPv6, a DNS name), is refused unless
its name or address is on `JOURNEYS_OUTBOUND_ALLOWLIST` (comma-separated host names or CIDRs). At send the
host is resolved once, every address is checked, and the socket connects to a checked address: a DNS answer
that changes between check and connect (rebinding) never reaches an unchecked address.

The one exception is the app's own demo sink, `http://127.0.0.1:<port>/api/v1/sink/webhook`: that exact URL
(literal loopback host, the app's own port, the sink's path) is always allowed, so the demo webhook works
without opening the app's own API to channel URLs.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from functools import cache

import httpx

from engine.engine import Engine

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# The webhook sink the API serves (ui/api/sink.py under /api/v1); the demo's webhook channel points at it.
SINK_PATH = "/api/v1/sink/webhook"
LOOPBACK_NAMES = frozenset({"127.0.0.1", "::1", "localhost"})
DEFAULT_PORTS = {"http": 80, "https": 443}
# NAT64 gateways translate 64:ff9b::a.b.c.d to the IPv4 address a.b.c.d.
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class BlockedDestination(Exception):
    """A destination the guard refuses; the message names the host, the address and why."""


@dataclass(frozen=True)
class Allowlist:
    hosts: frozenset[str]
    networks: tuple[IPNetwork, ...]

    def covers(self, address: IPAddress) -> bool:
        return any(address.version == network.version and address in network for network in self.networks)


@cache
def parse_allowlist(text: str) -> Allowlist:
    """`JOURNEYS_OUTBOUND_ALLOWLIST`: each entry a CIDR or single address, otherwise a host name."""
    hosts: set[str] = set()
    networks: list[IPNetwork] = []
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
        except ValueError:
            hosts.add(normal_host(entry))
    return Allowlist(frozenset(hosts), tuple(networks))


def normal_host(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


def refusal(address: IPAddress) -> str | None:
    """Why `address` may not be reached ("loopback", "private", ...), or None for a public address."""
    address = _embedded_ipv4(address)
    for kind in ("unspecified", "loopback", "link_local", "multicast", "reserved", "private"):
        if getattr(address, f"is_{kind}"):
            return kind.replace("_", "-")
    return None if address.is_global else "non-public"


def _embedded_ipv4(address: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 one stands for (::ffff:a.b.c.d, 6to4, NAT64), else the address itself."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.sixtofour is not None:
            return address.sixtofour
        if address in NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)
    return address


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (numeric spellings included), in the resolver's order."""
    infos = socket.getaddrinfo(normal_host(host), port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def checked_addresses(engine: Engine, host: str, port: int) -> list[str]:
    """Resolve `host` once and check every address; BlockedDestination when any is refused.
    Raises OSError (socket.gaierror) when the name does not resolve."""
    allowlist = parse_allowlist(engine.settings.outbound_allowlist)
    addresses = resolve(host, port)
    if normal_host(host) in allowlist.hosts:
        return addresses
    for text in addresses:
        address = ipaddress.ip_address(text)
        reason = refusal(address)
        if reason is not None and not allowlist.covers(address):
            shown = "" if normal_host(host) == address.compressed else f" ({address.compressed})"
            raise BlockedDestination(f"blocked destination: {host}{shown} is a {reason} address; "
                                     "allow it with JOURNEYS_OUTBOUND_ALLOWLIST")
    return addresses


def connect(engine: Engine, host: str, port: int, timeout: float | None) -> socket.socket:
    """A TCP connection to one of `host`'s checked addresses (tried in the resolver's order)."""
    failure: OSError | None = None
    for address in checked_addresses(engine, host, port):
        try:
            return socket.create_connection((address, port), timeout)
        except OSError as error:
            failure = error
    assert failure is not None  # getaddrinfo answers at least one address or raises
    raise failure


def check_at_save(engine: Engine, host: str, port: int) -> None:
    """Refuse a destination that resolves to a blocked address now. A name that does not resolve yet is let
    through: the send checks again, and a stored config should not depend on DNS being up."""
    try:
        checked_addresses(engine, host, port)
    except OSError:
        return


def url_host_port(url: str) -> tuple[str, int]:
    """The host and port a URL connects to, as the HTTP client parses it; ValueError for a bad URL."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as error:
        raise ValueError(f"not a valid URL ({error})") from error
    if parsed.scheme not in DEFAULT_PORTS or not parsed.raw_host:
        raise ValueError("must be an http(s) URL with a host")
    return parsed.raw_host.decode("ascii"), parsed.port or DEFAULT_PORTS[parsed.scheme]


def is_own_sink(engine: Engine, url: str) -> bool:
    """Whether `url` is exactly this app's own demo webhook sink on a literal loopback host."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return False
    return (parsed.scheme == "http" and not parsed.userinfo and parsed.host in LOOPBACK_NAMES
            and parsed.port == engine.settings.port and parsed.path == SINK_PATH)


def own_sink_url(engine: Engine) -> str:
    return f"http://127.0.0.1:{engine.settings.port}{SINK_PATH}"
