"""The door to the outside world: HTTP requests to public addresses only (SSRF defence).

`safe_request()` checks a URL, resolves its host exactly once, refuses any address that is not
public, and then connects to that very address (the socket goes to the checked IP while the
Host header, TLS SNI and certificate verification keep using the host name), so a DNS answer
that changes between the check and the connection (DNS rebinding) cannot steer it inward.
Redirects are followed only when asked, and every hop is checked again. Bodies are streamed and
capped, and time is bounded per socket operation and for the whole request.

This module is a leaf library: it imports no project module. Callers pass the allow list
(named private hosts for tests and development), limits and timeouts in.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import idna
import requests
import urllib3
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.exceptions import ReadTimeoutError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# resolver(host, port) -> the host's addresses as strings, best first.
Resolver = Callable[[str, int], Sequence[str]]

DEFAULT_USER_AGENT = "Prospector/1.0 (+https://github.com/prospector)"
DEFAULT_MAX_BYTES = 2 * 1024 * 1024
DEFAULT_TIMEOUT = (5.0, 10.0)
MAX_URL_LENGTH = 4096
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
DEFAULT_PORTS = {"http": 80, "https": 443}
# Headers that carry credentials and must not follow a redirect to another origin.
CREDENTIAL_HEADERS = ("authorization", "proxy-authorization", "cookie")


class FetchError(Exception):
    """The request could not be completed; the message says why, without credentials."""


class UnsafeURL(FetchError):
    """The URL is refused before any connection: bad scheme, bad form or non-public address."""


class ResolutionError(FetchError):
    """The host name does not resolve."""


class FetchTimeout(FetchError):
    """Connecting, reading or the whole request took longer than allowed."""


class TooManyRedirects(FetchError):
    """The redirect chain was longer than allowed (or looped)."""


# Addresses of cloud instance metadata services: never reachable, allow list or not.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean...
        "169.254.170.2",  # AWS ECS task metadata
        "169.254.169.123",  # AWS time sync
        "100.100.100.200",  # Alibaba Cloud
        "fd00:ec2::254",  # AWS over IPv6
        "fd00:ec2::23",  # AWS time sync over IPv6
    )
)

_V4 = ipaddress.IPv4Network
_V6 = ipaddress.IPv6Network
# Named non-public ranges, checked in order so the refusal message names the right one.
_IPV4_RANGES: tuple[tuple[ipaddress.IPv4Network, str], ...] = (
    (_V4("0.0.0.0/8"), "unspecified ('this network')"),
    (_V4("127.0.0.0/8"), "loopback"),
    (_V4("10.0.0.0/8"), "private"),
    (_V4("172.16.0.0/12"), "private"),
    (_V4("192.168.0.0/16"), "private"),
    (_V4("100.64.0.0/10"), "carrier-grade NAT (shared)"),
    (_V4("169.254.0.0/16"), "link-local"),
    (_V4("224.0.0.0/4"), "multicast"),
    (_V4("255.255.255.255/32"), "broadcast"),
    (_V4("240.0.0.0/4"), "reserved"),
    (_V4("192.0.0.0/24"), "IETF protocol assignment"),
    (_V4("192.0.2.0/24"), "documentation"),
    (_V4("198.51.100.0/24"), "documentation"),
    (_V4("203.0.113.0/24"), "documentation"),
    (_V4("198.18.0.0/15"), "benchmarking"),
)
_IPV6_RANGES: tuple[tuple[ipaddress.IPv6Network, str], ...] = (
    (_V6("::/128"), "unspecified"),
    (_V6("::1/128"), "loopback"),
    (_V6("fe80::/10"), "link-local"),
    (_V6("fec0::/10"), "site-local (deprecated private)"),
    (_V6("fc00::/7"), "unique-local (private)"),
    (_V6("ff00::/8"), "multicast"),
    (_V6("100::/64"), "discard-only"),
    (_V6("2001:db8::/32"), "documentation"),
    (_V6("3fff::/20"), "documentation"),
    (_V6("64:ff9b:1::/48"), "local-use NAT64"),
)
_NAT64 = _V6("64:ff9b::/96")
_IPV4_COMPATIBLE = _V6("::/96")
_SIXTOFOUR = _V6("2002::/16")
_TEREDO = _V6("2001::/32")


def refusal_reason(address: IPAddress) -> str | None:
    """Why `address` is not a public address (a short phrase), or None when it is public."""
    if address in METADATA_ADDRESSES:
        return "cloud metadata"
    if isinstance(address, ipaddress.IPv4Address):
        for network, label in _IPV4_RANGES:
            if address in network:
                return label
        return None if address.is_global else "non-public"

    if address.scope_id:
        return "scoped link-local"
    # Forms that carry an IPv4 address inside: judge the IPv4 address they lead to.
    mapped = address.ipv4_mapped
    if mapped is not None:
        inner = refusal_reason(mapped)
        return f"IPv4-mapped {inner}" if inner else None
    for network, label in _IPV6_RANGES:
        if address in network:
            return label
    if address in _IPV4_COMPATIBLE:  # ::a.b.c.d, deprecated, never routed
        return f"IPv4-compatible form of {ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)}"
    if address in _NAT64:
        inner = refusal_reason(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        return f"NAT64 form of a {inner}" if inner else None
    if address in _SIXTOFOUR:
        embedded = address.sixtofour
        inner = refusal_reason(embedded) if embedded else "malformed"
        return f"6to4 form of a {inner}" if inner else None
    if address in _TEREDO:
        # Teredo embeds a server and an (obfuscated) client IPv4 address; the tunnel is
        # not a place webhooks or crawls have any business going.
        return "Teredo tunnel"
    return None if address.is_global else "non-public"


def is_public_address(address: IPAddress | str) -> bool:
    if isinstance(address, str):
        address = ipaddress.ip_address(address)
    return refusal_reason(address) is None


def _parse_ipv4_number(part: str) -> int | None:
    """One dotted part as a browser reads it: decimal, 0x-hex or 0-prefixed octal."""
    if not part:
        return None
    try:
        if part[:2] in ("0x", "0X"):
            return int(part[2:] or "0", 16)
        if len(part) > 1 and part[0] == "0":
            return int(part[1:], 8)
        return int(part, 10)
    except ValueError:
        return None


_NUMERIC_LABEL = re.compile(r"^(?:[0-9]+|0[xX][0-9a-fA-F]*)$")


def parse_ip_literal(host: str) -> IPAddress | None:
    """The address a host written as an IP literal stands for, in any notation.

    Besides the dotted quad this accepts what resolvers and browsers accept: `127.1`,
    `2130706433`, `0x7f.0.0.1`, `0177.0.0.1` (the WHATWG rule: a host whose last label is
    numeric is an IPv4 address). Returns None for a host name; raises UnsafeURL for a
    numeric host that is not a valid address.
    """
    host = host.strip("[]")
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host)
        except ValueError:
            raise UnsafeURL(f"'{host}' is not a valid IPv6 address.") from None
    labels = host.rstrip(".").split(".")
    if not _NUMERIC_LABEL.match(labels[-1]):
        return None
    numbers = [_parse_ipv4_number(label) for label in labels]
    if len(numbers) > 4 or any(n is None for n in numbers):
        raise UnsafeURL(f"'{host}' is not a valid IPv4 address.")
    values: list[int] = [n for n in numbers if n is not None]
    *head, last = values
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(values)):
        raise UnsafeURL(f"'{host}' is not a valid IPv4 address.")
    value = last
    for index, number in enumerate(head):
        value += number << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def system_resolver(host: str, port: int) -> list[str]:
    """The host's addresses from the operating system's resolver, in its order, deduplicated."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise ResolutionError(f"Could not resolve '{host}': {exc}.") from exc
    addresses: list[str] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        if sockaddr[0] not in addresses:
            addresses.append(str(sockaddr[0]))
    return addresses


def redact_url(url: str) -> str:
    """`url` without user name and password, for logs and messages."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<malformed URL>"
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def _normalize_host(host: str) -> str:
    host = host.lower().rstrip(".")
    if host.isascii():
        return host
    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise UnsafeURL(f"'{host}' is not a valid host name ({exc}).") from None


@dataclass(frozen=True)
class AllowList:
    """Hosts that may resolve to non-public addresses: "host" (any port) or "host:port"."""

    entries: frozenset[tuple[str, int | None]] = frozenset()

    @classmethod
    def parse(cls, items: Iterable[str]) -> AllowList:
        entries: set[tuple[str, int | None]] = set()
        for raw in items:
            item = raw.strip().lower()
            if not item:
                continue
            host, port = item, None
            if item.startswith("["):
                host, _, rest = item[1:].partition("]")
                if rest.startswith(":"):
                    port = int(rest[1:])
            elif item.count(":") == 1:
                host, port_text = item.split(":")
                port = int(port_text)
            literal = parse_ip_literal(host)
            entries.add((str(literal) if literal else _normalize_host(host), port))
        return cls(frozenset(entries))

    def allows(self, host: str, port: int) -> bool:
        return (host, None) in self.entries or (host, port) in self.entries


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (`address`) and what to call the host on the wire."""

    url: str
    scheme: str
    host: str  # normalized: lower case, IDNA, canonical IP literal
    port: int
    address: str
    allow_listed: bool

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"

    @property
    def origin(self) -> tuple[str, str, int]:
        return self.scheme, self.host, self.port


def check_url(
    url: str,
    *,
    allow_hosts: Iterable[str] | AllowList = (),
    resolver: Resolver | None = None,
) -> Target:
    """Validate `url` and resolve its host once; the Target says which address to connect to.

    Raises UnsafeURL (scheme, form, non-public address) or ResolutionError. Every address the
    host resolves to must be public unless the host is on the allow list; cloud metadata
    addresses are refused even then.
    """
    if not isinstance(url, str) or not url:
        raise UnsafeURL("The URL is empty.")
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeURL(f"The URL is longer than {MAX_URL_LENGTH} characters.")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url) or "\\" in url:
        raise UnsafeURL("The URL contains spaces, control characters or backslashes.")
    try:
        parts = urlsplit(url)
        port_in_url = parts.port
    except ValueError as exc:
        raise UnsafeURL(f"The URL is malformed: {exc}.") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise UnsafeURL(f"Only http and https URLs are allowed, not '{scheme or 'none'}'.")
    if not parts.hostname:
        raise UnsafeURL("The URL has no host.")
    port = port_in_url if port_in_url is not None else DEFAULT_PORTS[scheme]
    if not 0 < port < 65536:
        raise UnsafeURL(f"Port {port} is out of range.")

    literal = parse_ip_literal(parts.hostname)
    host = str(literal) if literal else _normalize_host(parts.hostname)
    allow = allow_hosts if isinstance(allow_hosts, AllowList) else AllowList.parse(allow_hosts)
    allow_listed = allow.allows(host, port)

    if literal is not None:
        addresses: list[IPAddress] = [literal]
    elif not allow_listed and (host == "localhost" or host.endswith(".localhost")):
        raise UnsafeURL(f"'{host}' is a loopback name; only public addresses are allowed.")
    else:
        answers = (resolver or system_resolver)(host, port)
        addresses = []
        for answer in answers:
            try:
                addresses.append(ipaddress.ip_address(answer))
            except ValueError:
                raise ResolutionError(f"'{host}' resolved to a malformed address.") from None
        if not addresses:
            raise ResolutionError(f"Could not resolve '{host}': no addresses.")

    for address in addresses:
        reason = refusal_reason(address)
        if reason is None or (allow_listed and reason != "cloud metadata"):
            continue
        where = f"'{host}'" if literal else f"'{host}' resolves to {address}, which"
        article = "an" if reason[0].lower() in "aeiou" else "a"
        raise UnsafeURL(
            f"{where} is {article} {reason} address; only public addresses are allowed."
        )

    return Target(
        url=url,
        scheme=scheme,
        host=host,
        port=port,
        address=str(addresses[0]),
        allow_listed=allow_listed,
    )


class PinnedAddressAdapter(HTTPAdapter):
    """A requests adapter that connects to the address checked for each request.

    The request carries its Target (set by `safe_request`); the connection pool is keyed by that
    address and the TLS server name, so pools are reused only for the same checked pair.
    A request without a Target is refused rather than resolved again.
    """

    def build_connection_pool_key_attributes(
        self, request: requests.PreparedRequest, verify: Any, cert: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(
            request, verify, cert
        )
        target: Target | None = getattr(request, "netguard_target", None)
        if target is None:
            raise UnsafeURL("Refusing a request whose address was not checked.")
        host_params["host"] = target.address
        host_params["port"] = target.port
        if target.scheme == "https" and parse_ip_literal(target.host) is None:
            pool_kwargs["server_hostname"] = target.host  # SNI and certificate name
        return host_params, pool_kwargs


# Shared so connections are reused across requests; urllib3 pools are thread-safe. Pools are
# per checked address: 128 addresses kept, up to 64 connections each (an enrichment job runs
# dozens of companies at once, and a search API answers all of them from one address).
_ADAPTER = PinnedAddressAdapter(pool_connections=128, pool_maxsize=64)


@dataclass(frozen=True)
class SafeResponse:
    status: int
    headers: Mapping[str, str]
    body: bytes
    truncated: bool  # the body was longer than max_bytes and was cut there
    url: str  # the final URL, after redirects, without credentials
    elapsed_ms: int
    redirects: tuple[str, ...] = field(default=())  # URLs that answered with a redirect

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def text(self) -> str:
        charset = "utf-8"
        match = re.search(r"charset=([\w.:-]+)", self.headers.get("content-type", ""), re.I)
        if match:
            charset = match.group(1)
        try:
            return self.body.decode(charset, errors="replace")
        except LookupError:
            return self.body.decode("utf-8", errors="replace")


def _timeouts(timeout: float | tuple[float, float]) -> tuple[float, float]:
    if isinstance(timeout, tuple):
        return float(timeout[0]), float(timeout[1])
    return float(timeout), float(timeout)


def _send(
    target: Target,
    method: str,
    headers: Mapping[str, str],
    data: bytes | str | None,
    timeouts: tuple[float, float],
    verify: bool | str,
    nominal: tuple[float, float],
) -> requests.Response:
    """One request/response exchange, body left unread; `nominal` timeouts are for messages."""
    try:
        prepared = requests.Request(method, target.url, headers=dict(headers), data=data).prepare()
    except (requests.RequestException, ValueError) as exc:
        raise UnsafeURL(f"The URL is malformed: {_short(exc)}") from None
    prepared.headers["Host"] = target.host_header
    prepared.netguard_target = target  # type: ignore[attr-defined]
    where = f"{target.host}:{target.port}"
    try:
        return _ADAPTER.send(prepared, stream=True, timeout=timeouts, verify=verify)
    except requests.ConnectTimeout:
        raise FetchTimeout(f"Connecting to {where} timed out after {nominal[0]:g}s.") from None
    except requests.ReadTimeout:
        raise FetchTimeout(f"{where} did not answer within {nominal[1]:g}s.") from None
    except requests.exceptions.SSLError as exc:
        raise FetchError(f"TLS handshake with {where} failed: {_short(exc)}") from None
    except requests.ConnectionError as exc:
        raise FetchError(f"Could not connect to {where}: {_short(exc)}") from None
    except requests.RequestException as exc:
        raise FetchError(f"Request to {where} failed: {_short(exc)}") from None


def _short(exc: BaseException) -> str:
    """The innermost useful part of a requests/urllib3 error message."""
    text = str(exc)
    for marker in ("Caused by ", "Failed to establish a new connection: "):
        if marker in text:
            text = text.split(marker, 1)[1]
    return text.strip("()'\" ")[:200]


def _read_capped(
    response: requests.Response, max_bytes: int, deadline: float, where: str
) -> tuple[bytes, bool]:
    """Up to `max_bytes` of the (decoded) body; stops reading as soon as more arrives.

    `read1` returns whatever has arrived, so the total deadline is checked even when a server
    drips a byte at a time (a plain `read(n)` would wait for all n bytes).
    """
    chunks: list[bytes] = []
    size = 0
    try:
        while True:
            chunk = response.raw.read1(16 * 1024, decode_content=True)
            if not chunk:
                return b"".join(chunks), False
            chunks.append(chunk)
            size += len(chunk)
            if size > max_bytes:
                return b"".join(chunks)[:max_bytes], True
            if time.perf_counter() > deadline:
                raise FetchTimeout(f"{where} sent its response too slowly.")
    except ReadTimeoutError:
        raise FetchTimeout(f"{where} stopped sending its response.") from None
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise FetchError(f"Reading the response of {where} failed: {_short(exc)}") from None
    finally:
        response.close()


def safe_request(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    data: bytes | str | None = None,
    timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
    total_timeout: float | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    allow_hosts: Iterable[str] | AllowList = (),
    max_redirects: int = 0,
    user_agent: str = DEFAULT_USER_AGENT,
    resolver: Resolver | None = None,
    verify: bool | str = True,
    before_redirect: Callable[[str], None] | None = None,
) -> SafeResponse:
    """Send one HTTP request to a public address and return its (capped) response.

    - `timeout`: seconds to connect and to wait for each read, or a (connect, read) pair;
      `total_timeout` bounds the whole exchange (default: connect + read).
    - `max_bytes`: the body is read up to this size; beyond it reading stops and the response
      is marked `truncated`.
    - `max_redirects`: 0 returns a redirect response as it is; otherwise up to this many
      redirects are followed, each new URL checked like the first.
    - `allow_hosts`: "host" or "host:port" entries that may resolve to private addresses.
    - `resolver`: replaces the system resolver (tests inject one: no DNS traffic).
    - `before_redirect`: called with each redirect's URL before it is requested; it may
      raise (the fetcher checks robots.txt of every host a redirect leads to).

    Raises UnsafeURL before any connection to a refused address, FetchTimeout, TooManyRedirects
    or FetchError. Non-2xx statuses are responses, not errors.
    """
    started = time.perf_counter()
    timeouts = _timeouts(timeout)
    deadline = started + (total_timeout if total_timeout is not None else sum(timeouts))
    allow = allow_hosts if isinstance(allow_hosts, AllowList) else AllowList.parse(allow_hosts)
    method = method.upper()
    request_headers: CaseInsensitiveDict[str] = CaseInsensitiveDict(
        {"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate", "Accept": "*/*"}
    )
    request_headers.update(headers or {})
    body = data
    hop_url = url
    redirects: list[str] = []
    target = check_url(hop_url, allow_hosts=allow, resolver=resolver)

    while True:
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            raise FetchTimeout(f"{redact_url(url)} took longer than allowed.")
        hop_timeouts = (min(timeouts[0], remaining), min(timeouts[1], remaining))
        response = _send(target, method, request_headers, body, hop_timeouts, verify, timeouts)
        location = response.headers.get("location")
        if max_redirects <= 0 or response.status_code not in REDIRECT_STATUSES or not location:
            break
        response.close()
        if len(redirects) >= max_redirects:
            raise TooManyRedirects(f"{redact_url(url)} redirected more than {max_redirects} times.")
        redirects.append(redact_url(hop_url))
        hop_url = urljoin(hop_url, location)
        next_target = check_url(hop_url, allow_hosts=allow, resolver=resolver)
        if before_redirect is not None:
            before_redirect(hop_url)
        if response.status_code in (301, 302, 303) and method != "HEAD":
            # What browsers do: the follow-up is a GET without the body.
            method, body = "GET", None
            for name in ("content-type", "content-length"):
                request_headers.pop(name, None)
        if next_target.origin != target.origin:
            for name in CREDENTIAL_HEADERS:
                request_headers.pop(name, None)
        target = next_target

    where = f"{target.host}:{target.port}"
    content, truncated = _read_capped(response, max_bytes, deadline, where)
    return SafeResponse(
        status=response.status_code,
        headers=CaseInsensitiveDict(response.headers),
        body=content,
        truncated=truncated,
        url=redact_url(hop_url),
        elapsed_ms=int((time.perf_counter() - started) * 1000),
        redirects=tuple(redirects),
    )
