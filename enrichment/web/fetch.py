"""The one fetcher of the app: every outbound HTTP request goes through a `Fetcher`.

Built on `netguard.safe_request` (public addresses only, the checked address pinned, every
redirect re-checked, size and time caps), it adds what a polite, dependable client needs on
top: robots.txt for page fetches, a per-host concurrency limit and a delay between requests
to the same host, retries with backoff on 429 and 5xx (honouring Retry-After), and a response
cache behind the `ResponseCache` protocol (the app passes a database-backed one in).

One Fetcher is shared by every thread of a process: the per-host limits are kept on it, and
nothing in it serializes requests to unrelated hosts.

This module is a leaf library: it imports no project module. Callers pass the User-Agent,
allow list, limits and cache in.
"""

from __future__ import annotations

import codecs
import hashlib
import random
import re
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import cached_property
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit
from urllib.robotparser import RobotFileParser

from enrichment.web.netguard import (
    AllowList,
    FetchError,
    FetchTimeout,
    ResolutionError,
    Resolver,
    TooManyRedirects,
    UnsafeURL,
    redact_url,
    safe_request,
)

__all__ = [
    "FetchError",
    "FetchResult",
    "FetchTimeout",
    "Fetcher",
    "ResolutionError",
    "ResponseCache",
    "RobotsDisallowed",
    "TooManyRedirects",
    "UnsafeURL",
    "cache_key",
    "cookie_names",
    "parse_retry_after",
]

MAX_REDIRECTS = 5
# Answers worth asking again: rate limited, or a server or gateway having a bad moment.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Methods safe to send twice after a connection failure; others retry only when asked.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# A page that is gone is remembered for less time than one that answered.
MISSING_TTL = 3600
MISSING_STATUSES = frozenset({404, 410})
# RFC 9309: crawlers must read at least the first 500 KiB of a robots.txt.
ROBOTS_MAX_BYTES = 512 * 1024
# RFC 9309: an unreachable robots.txt (5xx, network failure) means "disallow everything",
# for a while; it is asked again after this many seconds.
ROBOTS_UNREACHABLE_TTL = 300.0
# Hosts remembered for the limiter before idle ones are forgotten.
MAX_TRACKED_HOSTS = 10_000


class RobotsDisallowed(FetchError):
    """The site's robots.txt does not allow this User-Agent to fetch the URL."""


@dataclass
class FetchResult:
    url: str  # as asked for, without credentials
    final_url: str  # after redirects, without credentials
    status: int
    headers: dict[str, str]  # lower-case names; repeated headers joined with ", "
    body: bytes
    from_cache: bool = False
    elapsed_ms: float = 0.0
    cookies: list[str] = field(default_factory=list)  # names set by Set-Cookie
    truncated: bool = False  # the body was longer than the size cap and was cut there

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @cached_property
    def text(self) -> str:
        """The body decoded: HTTP charset, else a byte order mark or <meta charset>, else
        UTF-8; undecodable bytes become U+FFFD."""
        return decode_body(self.body, self.headers.get("content-type", ""))


class ResponseCache(Protocol):
    def get(self, key: str) -> FetchResult | None: ...

    def set(self, key: str, result: FetchResult, ttl: int) -> None: ...


# --- Helpers ----------------------------------------------------------------------------------

_HTTP_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.I)
_META_CHARSET = re.compile(rb"<meta\b[^>]*?charset\s*=\s*[\"']?\s*([\w.:-]+)", re.I)
# What browsers decode these labels as (WHATWG Encoding): Windows-1252, a superset.
_LATIN1_LABELS = {"iso-8859-1", "iso8859-1", "latin1", "latin-1", "us-ascii", "ascii"}


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    label = label.strip().lower()
    if label in _LATIN1_LABELS:
        return "cp1252"
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def decode_body(body: bytes, content_type: str = "") -> str:
    match = _HTTP_CHARSET.search(content_type or "")
    encoding = _codec(match.group(1)) if match else None
    if encoding is None and body.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    if encoding is None:
        meta = _META_CHARSET.search(body[:4096])
        encoding = _codec(meta.group(1).decode("ascii", "replace")) if meta else None
    return body.decode(encoding or "utf-8", errors="replace")


# Set-Cookie values arrive joined by ", "; a new cookie starts where "name=" follows a comma
# (an Expires date's comma is followed by a day number and a space, never by "name=").
_COOKIE_SPLIT = re.compile(r",\s*(?=[^;,\s=]+=)")


def cookie_names(headers: Mapping[str, str]) -> list[str]:
    """The names of the cookies a response sets, in order, without repeats."""
    raw = headers.get("set-cookie", "")
    names: list[str] = []
    for part in _COOKIE_SPLIT.split(raw) if raw else ():
        name = part.split(";", 1)[0].split("=", 1)[0].strip()
        if name and name not in names:
            names.append(name)
    return names


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After value (seconds or an HTTP date); None if unusable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _split(url: str) -> tuple[str, str, int, str] | None:
    """(scheme, host, port, host:port as written) of an http(s) URL, or None if unreadable.

    Only for keys (limiter, robots, cache): whether the URL may be fetched at all is
    decided by netguard when it is sent.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if scheme not in ("http", "https") or not host:
        return None
    port = port or (443 if scheme == "https" else 80)
    hostport = f"[{host}]" if ":" in host else host
    default = (scheme == "http" and port == 80) or (scheme == "https" and port == 443)
    return scheme, host, port, hostport if default else f"{hostport}:{port}"


def cache_key(method: str, url: str) -> str | None:
    """sha256 of the method and the normalized URL; None for a URL that is not cached
    (unreadable, or carrying credentials)."""
    split = _split(url)
    if split is None or "@" in urlsplit(url).netloc:
        return None
    scheme, _host, _port, netloc = split
    parts = urlsplit(url)
    normalized = urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))
    return hashlib.sha256(f"{method.upper()} {normalized}".encode()).hexdigest()


def product_token(user_agent: str) -> str:
    """The product token robots.txt groups are matched against: "ProspectorBot/1.0 (...)"
    -> "ProspectorBot"."""
    token = user_agent.strip().split("/", 1)[0].split(" ", 1)[0]
    return token or "*"


class _HostSlot:
    """Per-host state of the limiter: a semaphore and the earliest time of the next start."""

    __slots__ = ("active", "lock", "next_start", "semaphore")

    def __init__(self, limit: int) -> None:
        self.semaphore = threading.BoundedSemaphore(limit)
        self.lock = threading.Lock()
        self.next_start = 0.0
        self.active = 0


_ALLOW_ALL = "allow"
_DISALLOW_ALL = "disallow"
# robots.txt could not be read (5xx, timeout, network): disallow, and say why.
_UNREACHABLE = "unreachable"


# --- The fetcher ------------------------------------------------------------------------------


class Fetcher:
    """Guarded, polite, cached HTTP for the whole process. Thread-safe.

    - `allow_hosts`: "host" or "host:port" entries (a comma-separated string or a list) that
      may resolve to private addresses: tests and development only.
    - `cache`: where successful GETs are kept for `cache_ttl` seconds (404/410 for at most
      MISSING_TTL); None caches nothing.
    - `per_host_limit` requests at a time per host, starts `per_host_delay` seconds apart.
    - `max_retries` more tries on 429/500/502/503/504 and on connection failures (idempotent
      methods), waiting `retry_backoff` * 2^n seconds or what Retry-After asks, up to
      `max_retry_wait`; a longer Retry-After returns the answer at once.
    - `respect_robots`: GET and HEAD page fetches obey robots.txt for the User-Agent's
      product token.
    """

    def __init__(
        self,
        *,
        user_agent: str,
        allow_hosts: str | Iterable[str] = "",
        cache: ResponseCache | None = None,
        cache_ttl: int = 86_400,
        max_bytes: int = 2 * 1024 * 1024,
        timeout: tuple[float, float] = (5.0, 10.0),
        per_host_limit: int = 2,
        per_host_delay: float = 0.5,
        max_retries: int = 2,
        max_retry_wait: float = 30.0,
        respect_robots: bool = True,
        resolver: Resolver | None = None,
        retry_backoff: float = 0.5,
        total_timeout: float | None = None,
        robots_unreachable_ttl: float = ROBOTS_UNREACHABLE_TTL,
    ) -> None:
        if isinstance(allow_hosts, str):
            allow_hosts = allow_hosts.split(",")
        if per_host_limit < 1:
            raise ValueError("per_host_limit must be at least 1.")
        self.user_agent = user_agent
        self.robots_token = product_token(user_agent)
        self.allow = AllowList.parse(allow_hosts)
        self.cache = cache
        self.cache_ttl = cache_ttl
        self.max_bytes = max_bytes
        self.timeout = (float(timeout[0]), float(timeout[1]))
        self.total_timeout = total_timeout
        self.per_host_limit = per_host_limit
        self.per_host_delay = max(0.0, per_host_delay)
        self.max_retries = max(0, max_retries)
        self.max_retry_wait = max_retry_wait
        self.retry_backoff = retry_backoff
        self.respect_robots = respect_robots
        self.resolver = resolver
        self.robots_unreachable_ttl = robots_unreachable_ttl
        self._slots: dict[str, _HostSlot] = {}
        self._slots_lock = threading.Lock()
        # origin -> (rules, expires at on the monotonic clock)
        self._robots: dict[str, tuple[RobotFileParser | str, float]] = {}
        self._robots_locks: dict[str, threading.Lock] = {}
        self._robots_lock = threading.Lock()

    def _check_robots(self, url: str) -> None:
        """Raise RobotsDisallowed unless robots.txt of the URL's host lets us fetch it."""
        split = _split(url)
        if not split or self.allowed_by_robots(url):
            return
        known = self._robots.get(f"{split[0]}://{split[3]}")
        if known is not None and known[0] == _UNREACHABLE:
            raise RobotsDisallowed(
                f"robots.txt of {split[1]} could not be read (the site failed or did not "
                "answer), so nothing is fetched from it for a while (RFC 9309)."
            )
        raise RobotsDisallowed(
            f"robots.txt of {split[1]} does not allow {self.robots_token} "
            f"to fetch {redact_url(url)}."
        )

    # --- Public interface ---------------------------------------------------------------------

    def get(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        use_cache: bool = True,
        check_robots: bool = True,
        max_bytes: int | None = None,
    ) -> FetchResult:
        """Fetch a page: robots.txt checked, cached, up to MAX_REDIRECTS redirects followed."""
        return self.request(
            "GET",
            url,
            headers=headers,
            use_cache=use_cache,
            check_robots=check_robots,
            max_bytes=max_bytes,
        )

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        data: bytes | None = None,
        retries: int | None = None,
        check_robots: bool = False,
        use_cache: bool = False,
        timeout: float | tuple[float, float] | None = None,
        total_timeout: float | None = None,
        max_bytes: int | None = None,
        max_redirects: int = MAX_REDIRECTS,
        cache_ttl: int | None = None,
        polite: bool = True,
    ) -> FetchResult:
        """Send one request through the guard and return its answer, whatever the status.

        `retries` defaults to `max_retries` for idempotent methods and 0 for others.
        `polite=False` skips the per-host limit and delay: for APIs that meter their callers
        by key and answer 429 when they want less (search providers), not for pages.
        Raises UnsafeURL, ResolutionError, FetchTimeout, TooManyRedirects, RobotsDisallowed
        or FetchError (connection failures, once retries are spent).
        """
        method = method.upper()
        key = None
        if use_cache and self.cache is not None and method == "GET" and data is None:
            key = cache_key(method, url)
            if key is not None:
                cached = self.cache.get(key)
                if cached is not None:
                    # A copy: an in-memory cache must not see its entry marked.
                    return replace(cached, from_cache=True)

        split = _split(url)
        host_key = split[3] if split else None
        robots_apply = check_robots and self.respect_robots and method in ("GET", "HEAD")
        if robots_apply:
            self._check_robots(url)

        if retries is None:
            retries = self.max_retries if method in IDEMPOTENT_METHODS else 0
        started = time.perf_counter()
        attempt = 0
        while True:
            try:
                with self._slot(host_key if polite else None):
                    response = safe_request(
                        method,
                        url,
                        headers=headers,
                        data=data,
                        timeout=timeout if timeout is not None else self.timeout,
                        total_timeout=total_timeout or self.total_timeout,
                        max_bytes=max_bytes or self.max_bytes,
                        allow_hosts=self.allow,
                        max_redirects=max_redirects,
                        user_agent=self.user_agent,
                        resolver=self.resolver,
                        # Every host a redirect leads to has its own robots.txt.
                        before_redirect=self._check_robots if robots_apply else None,
                    )
            except (UnsafeURL, ResolutionError, TooManyRedirects, FetchTimeout, RobotsDisallowed):
                # Refusals and timeouts: asking again would give the same answer, slowly.
                raise
            except FetchError:
                if attempt >= retries:
                    raise
                wait = self._backoff(attempt)
            else:
                if response.status not in RETRY_STATUSES or attempt >= retries:
                    break
                asked = parse_retry_after(response.headers.get("retry-after"))
                if asked is not None and asked > self.max_retry_wait:
                    break
                wait = asked if asked is not None else self._backoff(attempt)
                if polite and host_key:
                    self._hold_host(host_key, wait)
            attempt += 1
            if wait > 0:
                time.sleep(wait)

        result_headers = {name.lower(): value for name, value in response.headers.items()}
        result = FetchResult(
            url=redact_url(url),
            final_url=response.url,
            status=response.status,
            headers=result_headers,
            body=response.body,
            elapsed_ms=(time.perf_counter() - started) * 1000,
            cookies=cookie_names(result_headers),
            truncated=response.truncated,
        )
        if key is not None and self.cache is not None and not result.truncated:
            ttl = self.cache_ttl if cache_ttl is None else cache_ttl
            if result.status in MISSING_STATUSES:
                ttl = min(ttl, MISSING_TTL)
            if ttl > 0 and (result.ok or result.status in MISSING_STATUSES):
                self.cache.set(key, result, ttl)
        return result

    def allowed_by_robots(self, url: str) -> bool:
        """Whether the site's robots.txt lets this User-Agent fetch `url` (fetched once per
        origin and kept for the cache TTL). Raises UnsafeURL/ResolutionError for a host
        that may not be reached at all."""
        split = _split(url)
        if split is None:
            return True  # not a URL robots.txt speaks about; netguard refuses it
        scheme, _host, _port, netloc = split
        origin = f"{scheme}://{netloc}"
        rules = self._robots_rules(origin)
        if rules == _ALLOW_ALL:
            return True
        if rules in (_DISALLOW_ALL, _UNREACHABLE):
            return False
        assert isinstance(rules, RobotFileParser)
        return rules.can_fetch(self.robots_token, url)

    # --- robots.txt ---------------------------------------------------------------------------

    def _robots_rules(self, origin: str) -> RobotFileParser | str:
        known = self._robots.get(origin)
        if known is not None and known[1] > time.monotonic():
            return known[0]
        with self._robots_lock:
            lock = self._robots_locks.setdefault(origin, threading.Lock())
        with lock:  # one fetch per origin; the others wait for its answer
            known = self._robots.get(origin)
            if known is not None and known[1] > time.monotonic():
                return known[0]
            rules, ttl = self._fetch_robots(origin)
            with self._robots_lock:
                if len(self._robots) >= MAX_TRACKED_HOSTS:
                    now = time.monotonic()
                    for stale in [o for o, (_, until) in self._robots.items() if until <= now]:
                        del self._robots[stale]
                        self._robots_locks.pop(stale, None)
                self._robots[origin] = (rules, time.monotonic() + ttl)
            return rules

    def _fetch_robots(self, origin: str) -> tuple[RobotFileParser | str, float]:
        try:
            result = self.request(
                "GET",
                f"{origin}/robots.txt",
                use_cache=True,
                retries=0,
                max_bytes=ROBOTS_MAX_BYTES,
            )
        except (UnsafeURL, ResolutionError):
            raise  # the host itself may not be fetched: say so, not "robots.txt"
        except TooManyRedirects:
            return _ALLOW_ALL, self.cache_ttl  # RFC 9309: treated as unavailable
        except FetchError:
            return _UNREACHABLE, self.robots_unreachable_ttl
        if result.status >= 500:
            return _UNREACHABLE, self.robots_unreachable_ttl
        if not result.ok:  # 4xx (or a redirect without a target): no rules, all allowed
            return _ALLOW_ALL, self.cache_ttl
        parser = RobotFileParser()
        parser.parse(result.text.splitlines())
        return parser, self.cache_ttl

    # --- Per-host limiter ---------------------------------------------------------------------

    def _slot_for(self, host_key: str) -> _HostSlot:
        slot = self._slots.get(host_key)
        if slot is not None:
            return slot
        with self._slots_lock:
            if len(self._slots) >= MAX_TRACKED_HOSTS:
                now = time.monotonic()
                for key, idle in list(self._slots.items()):
                    if idle.active == 0 and idle.next_start <= now:
                        del self._slots[key]
            return self._slots.setdefault(host_key, _HostSlot(self.per_host_limit))

    @contextmanager
    def _slot(self, host_key: str | None) -> Iterator[None]:
        """Hold one of the host's `per_host_limit` places, starting no sooner than
        `per_host_delay` after the previous start there."""
        if host_key is None:
            yield
            return
        slot = self._slot_for(host_key)
        slot.semaphore.acquire()
        try:
            with slot.lock:
                slot.active += 1
                now = time.monotonic()
                start = max(now, slot.next_start)
                slot.next_start = start + self.per_host_delay
            if start > now:
                time.sleep(start - now)
            yield
        finally:
            with slot.lock:
                slot.active -= 1
            slot.semaphore.release()

    def _hold_host(self, host_key: str, seconds: float) -> None:
        """Keep every thread off a host that asked for a pause (429, 503)."""
        slot = self._slot_for(host_key)
        with slot.lock:
            slot.next_start = max(slot.next_start, time.monotonic() + seconds)

    def _backoff(self, attempt: int) -> float:
        wait = self.retry_backoff * (2**attempt) * (1 + random.uniform(0, 0.25))
        return min(wait, self.max_retry_wait)
