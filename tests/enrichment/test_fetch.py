"""The fetcher against real servers on 127.0.0.1, reachable only through its allow list."""

from __future__ import annotations

import itertools
import socket
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from enrichment.web.fetch import (
    Fetcher,
    FetchError,
    FetchResult,
    FetchTimeout,
    RobotsDisallowed,
    TooManyRedirects,
    UnsafeURL,
    cache_key,
    cookie_names,
    parse_retry_after,
    product_token,
)
from enrichment.web.netguard import ResolutionError
from tests.enrichment.localserver import LocalServer, Recorded, Reply

USER_AGENT = "ProspectorBot/1.0 (+https://prospector.example/bot)"


class Routes:
    """A reply factory by path: a Reply, or a list of Replies given in turn (the last one
    repeats), or a callable; unknown paths get 404."""

    def __init__(self, routes: dict[str, Reply | list[Reply] | Callable[[Recorded], Reply]]):
        self.routes = routes

    def __call__(self, request: Recorded) -> Reply:
        route = self.routes.get(request.path.split("?", 1)[0], Reply(404, b"not found"))
        if isinstance(route, list):
            return route.pop(0) if len(route) > 1 else route[0]
        return route(request) if callable(route) else route


class DictCache:
    """A ResponseCache in memory, recording the TTLs it is given."""

    def __init__(self) -> None:
        self.entries: dict[str, FetchResult] = {}
        self.ttls: dict[str, int] = {}

    def get(self, key: str) -> FetchResult | None:
        return self.entries.get(key)

    def set(self, key: str, result: FetchResult, ttl: int) -> None:
        self.entries[key] = result
        self.ttls[key] = ttl


def make_fetcher(*servers: LocalServer, **options) -> Fetcher:
    settings = {
        "user_agent": USER_AGENT,
        "allow_hosts": [server.netloc for server in servers],
        "timeout": (1.0, 1.0),
        "per_host_delay": 0.0,
        "retry_backoff": 0.01,
    }
    settings.update(options)
    return Fetcher(**settings)


def paths(server: LocalServer) -> list[str]:
    return [request.path for request in server.requests]


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with LocalServer() as local:
        yield local


@pytest.fixture
def canary() -> Iterator[LocalServer]:
    """A server nothing may reach: every SSRF test ends by checking it heard nothing."""
    with LocalServer() as local:
        yield local


# --- Plain fetching ---------------------------------------------------------------------------


def test_it_fetches_a_page_with_an_honest_user_agent(server):
    server.default = Routes(
        {
            "/robots.txt": Reply(404),
            "/": Reply(
                200,
                b"<h1>Acme</h1>",
                {"Content-Type": "text/html; charset=utf-8", "X-Powered-By": "PHP/8.2"},
            ),
        }
    )
    result = make_fetcher(server).get(server.url("/"))
    assert (result.status, result.ok, result.body, result.text) == (
        200,
        True,
        b"<h1>Acme</h1>",
        "<h1>Acme</h1>",
    )
    assert result.headers["x-powered-by"] == "PHP/8.2"  # names in lower case
    assert result.url == result.final_url == server.url("/")
    assert result.from_cache is False and result.truncated is False
    assert result.elapsed_ms > 0
    assert all(request.headers["user-agent"] == USER_AGENT for request in server.requests)


def test_an_error_status_is_returned_not_raised(server):
    server.default = Routes({"/robots.txt": Reply(404), "/gone": Reply(410, b"gone")})
    result = make_fetcher(server).get(server.url("/gone"))
    assert (result.status, result.ok, result.text) == (410, False, "gone")


def test_it_posts_with_request(server):
    server.default = Reply(201, b"created")
    result = make_fetcher(server).request(
        "POST", server.url("/in"), headers={"Content-Type": "application/json"}, data=b"{}"
    )
    assert result.status == 201
    (request,) = server.requests  # no robots.txt for a POST
    assert (request.method, request.body, request.headers["content-type"]) == (
        "POST",
        b"{}",
        "application/json",
    )


def test_text_follows_the_http_charset_then_meta_then_utf8():
    latin = "Café".encode("latin-1")
    assert (
        FetchResult("u", "u", 200, {"content-type": "text/html; charset=ISO-8859-1"}, latin).text
        == "Café"
    )
    meta = b'<html><head><meta charset="windows-1252"></head>' + latin
    assert FetchResult("u", "u", 200, {"content-type": "text/html"}, meta).text.endswith("Café")
    http_equiv = b'<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">' + latin
    assert FetchResult("u", "u", 200, {}, http_equiv).text.endswith("Café")
    assert FetchResult("u", "u", 200, {}, "Zoë".encode()).text == "Zoë"
    assert FetchResult("u", "u", 200, {}, b"bad \xff byte").text == "bad \ufffd byte"
    unknown = {"content-type": "text/html; charset=no-such-charset"}
    assert FetchResult("u", "u", 200, unknown, "Zoë".encode()).text == "Zoë"


def test_cookie_names_are_read_from_set_cookie(server):
    joined = (
        "PHPSESSID=abc; path=/, _shopify_y=1; Expires=Wed, 21 Oct 2026 07:28:00 GMT; Path=/, "
        "wp-settings-1=x"
    )
    assert cookie_names({"set-cookie": joined}) == ["PHPSESSID", "_shopify_y", "wp-settings-1"]
    assert cookie_names({}) == []

    server.default = Routes(
        {
            "/robots.txt": Reply(404),
            "/": Reply(
                200, b"", {"Set-Cookie": "hubspotutk=1; Expires=Wed, 21 Oct 2026 07:28:00 GMT"}
            ),
        }
    )
    assert make_fetcher(server).get(server.url("/")).cookies == ["hubspotutk"]


# --- robots.txt -------------------------------------------------------------------------------

ROBOTS = b"""User-agent: ProspectorBot
Disallow: /private

User-agent: *
Disallow: /
"""


def test_robots_txt_is_obeyed_for_our_product_token_and_read_once(server):
    server.default = Routes(
        {
            "/robots.txt": Reply(200, ROBOTS, {"Content-Type": "text/plain"}),
            "/public": Reply(200, b"hi"),
        }
    )
    fetcher = make_fetcher(server)
    assert product_token(USER_AGENT) == "ProspectorBot"
    assert fetcher.get(server.url("/public")).text == "hi"
    with pytest.raises(RobotsDisallowed, match="does not allow ProspectorBot"):
        fetcher.get(server.url("/private/report"))
    assert fetcher.get(server.url("/public")).ok
    assert paths(server) == ["/robots.txt", "/public", "/public"]


def test_robots_txt_of_the_host_a_redirect_leads_to_is_obeyed(server):
    with LocalServer() as other:
        other.default = Routes(
            {
                "/robots.txt": Reply(200, ROBOTS, {"Content-Type": "text/plain"}),
                "/private/page": Reply(200, b"secret"),
                "/open": Reply(200, b"fine"),
            }
        )
        server.default = Routes(
            {
                "/robots.txt": Reply(404),
                "/go": Reply(302, b"", {"Location": other.url("/private/page")}),
                "/ok": Reply(302, b"", {"Location": other.url("/open")}),
            }
        )
        fetcher = make_fetcher(server, other)
        with pytest.raises(RobotsDisallowed, match="does not allow ProspectorBot"):
            fetcher.get(server.url("/go"))
        assert paths(other) == ["/robots.txt"]  # the disallowed page was never asked for
        assert fetcher.get(server.url("/ok")).text == "fine"
        assert paths(server).count("/go") == 1  # a refusal is not retried


def test_robots_txt_for_other_agents_does_not_apply(server):
    robots = b"User-agent: OtherBot\nDisallow: /\n"
    server.default = Routes({"/robots.txt": Reply(200, robots), "/": Reply(200, b"hi")})
    assert make_fetcher(server).get(server.url("/")).ok


def test_a_missing_robots_txt_allows_everything(server):
    server.default = Routes({"/robots.txt": Reply(404), "/any/page": Reply(200, b"hi")})
    assert make_fetcher(server).get(server.url("/any/page")).ok
    assert paths(server) == ["/robots.txt", "/any/page"]


def test_a_failing_robots_txt_disallows_everything_for_a_while(server):
    server.default = Routes({"/robots.txt": Reply(500), "/": Reply(200, b"hi")})
    fetcher = make_fetcher(server, robots_unreachable_ttl=0.2)
    with pytest.raises(RobotsDisallowed, match="could not be read"):
        fetcher.get(server.url("/"))
    with pytest.raises(RobotsDisallowed, match="could not be read"):
        fetcher.get(server.url("/"))
    assert paths(server) == ["/robots.txt"]  # asked once, the page never

    server.default = Routes({"/robots.txt": Reply(404), "/": Reply(200, b"hi")})
    time.sleep(0.25)
    assert fetcher.get(server.url("/")).ok  # asked again after the short while


def test_a_robots_txt_that_times_out_disallows(server):
    server.default = Routes({"/robots.txt": Reply(200, b"", delay=1.0), "/": Reply(200, b"hi")})
    with pytest.raises(RobotsDisallowed, match=r"could not be read .* \(RFC 9309\)"):
        make_fetcher(server, timeout=(0.2, 0.2)).get(server.url("/"))
    assert paths(server) == ["/robots.txt"]


def test_robots_can_be_skipped_per_call_or_for_the_fetcher(server):
    server.default = Routes(
        {"/robots.txt": Reply(200, b"User-agent: *\nDisallow: /\n"), "/": Reply(200)}
    )
    assert make_fetcher(server).get(server.url("/"), check_robots=False).ok
    assert make_fetcher(server, respect_robots=False).get(server.url("/")).ok
    assert paths(server) == ["/", "/"]


# --- Retries ----------------------------------------------------------------------------------


def test_a_429_with_retry_after_in_seconds_is_waited_for_then_retried(server):
    server.default = Routes(
        {"/": [Reply(429, b"slow down", {"Retry-After": "1"}), Reply(200, b"hi")]}
    )
    started = time.monotonic()
    result = make_fetcher(server, respect_robots=False).get(server.url("/"))
    assert (result.status, result.text) == (200, "hi")
    assert time.monotonic() - started >= 0.95
    assert paths(server) == ["/", "/"]


def test_retry_after_as_an_http_date_is_read():
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert parse_retry_after(format_datetime(now + timedelta(seconds=7), usegmt=True), now) == 7
    assert parse_retry_after("Mon, 02 Mar 2026 08:00:00 GMT", now) == 0  # already past
    assert parse_retry_after("120", now) == 120
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


def test_a_429_with_a_past_http_date_is_retried_at_once(server):
    past = format_datetime(datetime.now(UTC) - timedelta(minutes=1), usegmt=True)
    server.default = Routes({"/": [Reply(429, b"", {"Retry-After": past}), Reply(200, b"hi")]})
    assert make_fetcher(server, respect_robots=False).get(server.url("/")).status == 200
    assert paths(server) == ["/", "/"]


@pytest.mark.parametrize("later", ["3600", "date"])
def test_a_retry_after_longer_than_allowed_returns_the_429(server, later):
    if later == "date":
        later = format_datetime(datetime.now(UTC) + timedelta(hours=1), usegmt=True)
    server.default = Routes({"/": [Reply(429, b"quota", {"Retry-After": later}), Reply(200)]})
    started = time.monotonic()
    result = make_fetcher(server, respect_robots=False, max_retry_wait=30).get(server.url("/"))
    assert (result.status, result.text) == (429, "quota")
    assert time.monotonic() - started < 0.5
    assert paths(server) == ["/"]


def test_a_500_is_retried_then_returned(server):
    server.default = Routes({"/": Reply(500, b"boom")})
    result = make_fetcher(server, respect_robots=False, max_retries=2).get(server.url("/"))
    assert (result.status, result.text) == (500, "boom")
    assert paths(server) == ["/", "/", "/"]


def test_a_503_then_success_backs_off_and_succeeds(server):
    server.default = Routes({"/": [Reply(503), Reply(502), Reply(200, b"hi")]})
    result = make_fetcher(server, respect_robots=False, max_retries=2).get(server.url("/"))
    assert result.text == "hi"
    assert paths(server) == ["/", "/", "/"]


def test_a_post_is_not_retried_unless_asked(server):
    server.default = Reply(503)
    fetcher = make_fetcher(server)
    assert fetcher.request("POST", server.url("/in"), data=b"x").status == 503
    assert len(server.requests) == 1
    assert fetcher.request("POST", server.url("/in"), data=b"x", retries=1).status == 503
    assert len(server.requests) == 3


def test_a_refused_connection_is_retried_then_raised():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    fetcher = Fetcher(
        user_agent=USER_AGENT,
        allow_hosts=f"127.0.0.1:{port}",
        retry_backoff=0.01,
        max_retries=2,
        per_host_delay=0,
    )
    with pytest.raises(FetchError, match=f"Could not connect to 127.0.0.1:{port}"):
        fetcher.get(f"http://127.0.0.1:{port}/", check_robots=False)


# --- Time and size limits ---------------------------------------------------------------------


def test_a_page_that_never_answers_times_out_without_retrying(server):
    server.default = Routes({"/": Reply(200, delay=2.0)})
    started = time.monotonic()
    with pytest.raises(FetchTimeout, match=r"did not answer within 0\.2s"):
        make_fetcher(server, respect_robots=False, timeout=(0.2, 0.2)).get(server.url("/"))
    assert time.monotonic() - started < 1.0
    assert paths(server) == ["/"]


def test_a_50_mb_body_is_cut_at_the_cap_without_reading_it_all(server):
    sent = [0]
    chunk = b"x" * 65536

    def fifty_megabytes() -> Iterator[bytes]:
        for _ in range(800):  # 800 x 64 KiB = 50 MiB
            sent[0] += len(chunk)
            yield chunk

    server.default = Routes({"/big": lambda request: Reply(200, chunks=fifty_megabytes())})
    fetcher = make_fetcher(server, respect_robots=False, max_bytes=1024 * 1024)
    tracemalloc.start()
    try:
        result = fetcher.get(server.url("/big"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.truncated and len(result.body) == 1024 * 1024
    assert peak < 8 * 1024 * 1024
    time.sleep(0.1)
    assert sent[0] < 20 * 1024 * 1024  # the server was stopped long before 50 MB


# --- Redirects and the SSRF guard -------------------------------------------------------------


def test_redirects_are_followed_up_to_five(server):
    routes = {"/robots.txt": Reply(404), "/5": Reply(200, b"end")}
    for hop in range(5):
        routes[f"/{hop}"] = Reply(302, b"", {"Location": f"/{hop + 1}"})
    server.default = Routes(routes)
    result = make_fetcher(server).get(server.url("/0"))
    assert (result.text, result.final_url, result.url) == (
        "end",
        server.url("/5"),
        server.url("/0"),
    )


def test_a_redirect_loop_stops_at_the_limit(server):
    server.default = Routes(
        {
            "/robots.txt": Reply(404),
            "/a": Reply(301, b"", {"Location": "/b"}),
            "/b": Reply(301, b"", {"Location": "/a"}),
        }
    )
    with pytest.raises(TooManyRedirects, match="more than 5 times"):
        make_fetcher(server).get(server.url("/a"))
    assert len(server.requests) == 1 + 6  # robots.txt, then the first URL and five hops


def test_a_redirect_to_the_metadata_address_is_refused(server):
    server.default = Routes(
        {"/": Reply(302, b"", {"Location": "http://169.254.169.254/latest/meta-data/"})}
    )
    # Even allow-listed, cloud metadata stays refused; nothing is connected to.
    fetcher = make_fetcher(
        server, respect_robots=False, allow_hosts=[server.netloc, "169.254.169.254"]
    )
    with pytest.raises(UnsafeURL, match="cloud metadata"):
        fetcher.get(server.url("/"))


def test_a_redirect_to_loopback_on_another_port_never_reaches_it(server, canary):
    server.default = Routes({"/": Reply(302, b"", {"Location": canary.url("/secret")})})
    with pytest.raises(UnsafeURL, match="loopback"):
        make_fetcher(server, respect_robots=False).get(server.url("/"))
    assert canary.requests == []


def test_a_redirect_to_a_name_resolving_to_loopback_never_reaches_it(server, canary):
    asked: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        asked.append(host)
        if host == "internal.example.com":
            return ["127.0.0.1"]
        raise ResolutionError(f"Could not resolve '{host}'.")

    target = f"http://internal.example.com:{canary.port}/admin"
    server.default = Routes({"/robots.txt": Reply(404), "/": Reply(302, b"", {"Location": target})})
    with pytest.raises(UnsafeURL, match=r"resolves to 127\.0\.0\.1"):
        make_fetcher(server, resolver=resolver).get(server.url("/"))
    assert asked == ["internal.example.com"]
    assert canary.requests == []


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "127.1",
        "2130706433",  # decimal
        "0177.0.0.1",  # octal
        "0x7f.0.0.1",  # hex
        "0x7f000001",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
        "[::1]",
        "localhost",
    ],
)
def test_literal_private_addresses_are_refused_in_every_notation(server, canary, host):
    fetcher = make_fetcher(server)  # only the server's port is allowed, not the canary's
    with pytest.raises(UnsafeURL):
        fetcher.get(f"http://{host}:{canary.port}/")
    with pytest.raises(UnsafeURL):
        fetcher.request("POST", f"http://{host}:{canary.port}/", data=b"x")
    assert canary.requests == []


@pytest.mark.parametrize(
    "url", ["ftp://example.com/", "file:///etc/passwd", "gopher://127.0.0.1:70/", "http://"]
)
def test_only_http_and_https_urls_are_fetched(url):
    with pytest.raises(UnsafeURL):
        Fetcher(user_agent=USER_AGENT).get(url)


# --- Politeness -------------------------------------------------------------------------------


def test_concurrency_is_limited_per_host_while_other_hosts_proceed(server):
    lock = threading.Lock()
    in_flight: dict[str, int] = {}
    most: dict[str, int] = {}
    finished: dict[str, list[float]] = {"a": [], "b": []}

    def slow(request: Recorded) -> Reply:
        host = request.headers["host"].split(".", 1)[0]
        with lock:
            in_flight[host] = in_flight.get(host, 0) + 1
            most[host] = max(most.get(host, 0), in_flight[host])
        time.sleep(0.15)
        with lock:
            in_flight[host] -= 1
        return Reply(200, host.encode())

    server.default = slow
    fetcher = make_fetcher(
        respect_robots=False,
        per_host_limit=2,
        allow_hosts=["a.test", "b.test"],
        resolver=lambda host, port: ["127.0.0.1"],
    )

    def fetch(host: str, n: int) -> None:
        fetcher.get(f"http://{host}.test:{server.port}/{n}", use_cache=False)
        finished[host].append(time.monotonic())

    threads = [threading.Thread(target=fetch, args=("a", n)) for n in range(6)]
    for thread in threads:
        thread.start()
    time.sleep(0.05)
    other = threading.Thread(target=fetch, args=("b", 0))
    other.start()
    for thread in [*threads, other]:
        thread.join(5)

    assert most["a"] == 2  # never more than the limit, and the limit was used
    assert len(finished["a"]) == 6
    # b.test did not wait behind a.test's queue (three rounds of 0.15 s).
    assert finished["b"][0] < max(finished["a"]) - 0.1


def test_requests_to_one_host_are_spaced_by_the_politeness_delay(server):
    arrivals: list[float] = []

    def record(request: Recorded) -> Reply:
        arrivals.append(time.monotonic())
        return Reply(200)

    server.default = record
    fetcher = make_fetcher(server, respect_robots=False, per_host_delay=0.1, per_host_limit=4)
    threads = [threading.Thread(target=fetcher.get, args=(server.url(f"/{n}"),)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    fetcher.get(server.url("/last"))
    arrivals.sort()
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    # Starts are 0.1 s apart at the client; arrival times at the server jitter on a busy
    # machine, so each gap is allowed some slack but the whole span may not shrink.
    assert len(gaps) == 3 and min(gaps) >= 0.05 and sum(gaps) >= 0.28


# --- Cache ------------------------------------------------------------------------------------


def test_successful_gets_are_cached_and_served_from_the_cache(server):
    server.default = Routes({"/robots.txt": Reply(404), "/": Reply(200, b"hi")})
    cache = DictCache()
    fetcher = make_fetcher(server, cache=cache, cache_ttl=600)
    first = fetcher.get(server.url("/"))
    second = fetcher.get(server.url("/"))
    assert (first.from_cache, second.from_cache, second.text) == (False, True, "hi")
    assert paths(server) == ["/robots.txt", "/"]
    assert cache.ttls[cache_key("GET", server.url("/"))] == 600

    assert fetcher.get(server.url("/"), use_cache=False).from_cache is False
    assert paths(server) == ["/robots.txt", "/", "/"]


def test_only_successes_and_missing_pages_are_cached(server):
    server.default = Routes(
        {
            "/robots.txt": Reply(404),
            "/error": Reply(500),
            "/moved": Reply(301),
            "/big": Reply(200, b"x" * 2048),
        }
    )
    cache = DictCache()
    fetcher = make_fetcher(server, cache=cache, cache_ttl=86_400, max_retries=0)
    fetcher.get(server.url("/error"))
    fetcher.get(server.url("/moved"))  # a redirect without a Location
    fetcher.get(server.url("/big"), max_bytes=1024)  # cut: not the page
    fetcher.request("POST", server.url("/missing"), use_cache=True)
    fetcher.get(server.url("/missing"))
    assert list(cache.ttls.values()) == [3600, 3600]  # robots.txt and /missing, shorter TTL


def test_cache_keys_ignore_case_default_ports_and_fragments():
    key = cache_key("GET", "http://Example.COM/a?b=1")
    assert key == cache_key("GET", "http://example.com:80/a?b=1#top")
    assert key != cache_key("GET", "http://example.com/a?b=2")
    assert key != cache_key("HEAD", "http://example.com/a?b=1")
    assert cache_key("GET", "https://example.com") == cache_key("GET", "https://example.com:443/")
    assert cache_key("GET", "http://user:pw@example.com/") is None
    assert len(key or "") == 64
