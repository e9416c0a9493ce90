"""The SSRF guard: address policy without any DNS, then real requests to 127.0.0.1 only."""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import ipaddress
import socket
import ssl
import time
from collections.abc import Iterator

import pytest

from enrichment.web.netguard import (
    AllowList,
    FetchError,
    FetchTimeout,
    ResolutionError,
    TooManyRedirects,
    UnsafeURL,
    check_url,
    is_public_address,
    parse_ip_literal,
    redact_url,
    refusal_reason,
    safe_request,
)
from tests.enrichment.localserver import LocalServer, Reply


def no_dns(host: str, port: int) -> list[str]:
    raise AssertionError(f"the resolver must not be asked about {host}")


def resolver_for(mapping: dict[str, list[str]], calls: list[str] | None = None):
    def resolve(host: str, port: int) -> list[str]:
        if calls is not None:
            calls.append(host)
        if host not in mapping:
            raise ResolutionError(f"Could not resolve '{host}'.")
        return mapping[host]

    return resolve


# --- The address policy ---------------------------------------------------------------------

REFUSED = {
    "0.0.0.0": "unspecified",
    "0.1.2.3": "unspecified",
    "127.0.0.1": "loopback",
    "127.255.255.254": "loopback",
    "10.0.0.1": "private",
    "10.255.255.255": "private",
    "172.16.0.1": "private",
    "172.31.255.254": "private",
    "192.168.0.1": "private",
    "100.64.0.1": "carrier-grade NAT",
    "100.127.255.254": "carrier-grade NAT",
    "169.254.0.1": "link-local",
    "169.254.169.254": "cloud metadata",
    "169.254.170.2": "cloud metadata",
    "100.100.100.200": "cloud metadata",
    "224.0.0.1": "multicast",
    "239.255.255.250": "multicast",
    "240.0.0.1": "reserved",
    "255.255.255.255": "broadcast",
    "192.0.2.10": "documentation",
    "198.18.0.1": "benchmarking",
    "::": "unspecified",
    "::1": "loopback",
    "fe80::1": "link-local",
    "fec0::1": "site-local",
    "fc00::1": "unique-local",
    "fd12:3456:789a::1": "unique-local",
    "fd00:ec2::254": "cloud metadata",
    "ff02::1": "multicast",
    "2001:db8::1": "documentation",
    "100::1": "discard",
    # IPv4 addresses dressed as IPv6.
    "::ffff:127.0.0.1": "IPv4-mapped loopback",
    "::ffff:10.1.2.3": "IPv4-mapped private",
    "::ffff:169.254.169.254": "IPv4-mapped cloud metadata",
    "::ffff:100.64.0.1": "IPv4-mapped carrier-grade NAT",
    "::127.0.0.1": "IPv4-compatible",
    "::a00:1": "IPv4-compatible",
    "::8.8.8.8": "IPv4-compatible",
    "2002:7f00:1::": "6to4 form of a loopback",
    "2002:a9fe:a9fe::1": "6to4 form of a cloud metadata",
    "2002:c0a8:101::1": "6to4 form of a private",
    "2001:0:4136:e378:8000:63bf:3fff:fdd2": "Teredo",
    "64:ff9b::7f00:1": "NAT64 form of a loopback",
    "64:ff9b::a9fe:a9fe": "NAT64 form of a cloud metadata",
    "64:ff9b:1::1": "local-use NAT64",
}

PUBLIC = [
    "8.8.8.8",
    "1.1.1.1",
    "93.184.215.14",
    "100.63.255.255",
    "100.128.0.1",
    "172.32.0.1",
    "2606:4700:4700::1111",
    "2001:4860:4860::8888",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",
    "2002:808:808::1",
]


@pytest.mark.parametrize(("address", "label"), REFUSED.items())
def test_it_refuses_every_non_public_range(address, label):
    reason = refusal_reason(ipaddress.ip_address(address))
    assert reason is not None and label in reason
    assert not is_public_address(address)


@pytest.mark.parametrize("address", PUBLIC)
def test_it_accepts_public_addresses(address):
    assert refusal_reason(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize("address", REFUSED)
def test_a_literal_refused_address_never_reaches_the_resolver(address):
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(UnsafeURL, match="only public addresses"):
        check_url(f"http://{host}:8080/hook", resolver=no_dns)


@pytest.mark.parametrize(
    ("written", "meaning"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("0x7f.0.0.1", "127.0.0.1"),
        ("0177.0.0.01", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("127.0.1", "127.0.0.1"),
        ("0", "0.0.0.0"),
        ("169.254.43518", "169.254.169.254"),
        ("0xa9.0xfe.0xa9.0xfe", "169.254.169.254"),
        ("2852039166", "169.254.169.254"),
        ("10.0.0.1.", "10.0.0.1"),
    ],
)
def test_it_reads_ipv4_in_every_notation_and_refuses_it(written, meaning):
    assert parse_ip_literal(written) == ipaddress.ip_address(meaning)
    with pytest.raises(UnsafeURL):
        check_url(f"http://{written}/", resolver=no_dns)


@pytest.mark.parametrize(
    "written", ["256.0.0.1", "1.2.3.4.5", "1.2.99999999", "4294967296", "1..2"]
)
def test_a_malformed_numeric_host_is_refused(written):
    with pytest.raises(UnsafeURL, match="not a valid IPv4"):
        check_url(f"http://{written}/", resolver=no_dns)


def test_names_are_not_mistaken_for_numbers():
    assert parse_ip_literal("example.com") is None
    assert parse_ip_literal("1.example") is None
    assert parse_ip_literal("example.0x7g") is None


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/",
        "file:///etc/passwd",
        "gopher://example.com/",
        "javascript:alert(1)",
        "dict://example.com:11211/",
        "example.com/path",
        "//example.com/",
        "http://",
        "http:///path",
        "http://exa mple.com/",
        "http://example.com/\r\nX-Injected: 1",
        "http://example.com\\@127.0.0.1/",
        "http://example.com:99999/",
        "http://example.com:abc/",
        "",
    ],
)
def test_it_refuses_malformed_urls_and_other_schemes(url):
    with pytest.raises(UnsafeURL):
        check_url(url, resolver=resolver_for({"example.com": ["93.184.215.14"]}))


def test_a_name_resolving_to_a_private_address_is_refused_with_a_clear_message():
    resolve = resolver_for({"intranet.example.com": ["10.1.2.3"]})
    with pytest.raises(UnsafeURL) as caught:
        check_url("https://intranet.example.com/x", resolver=resolve)
    assert str(caught.value) == (
        "'intranet.example.com' resolves to 10.1.2.3, which is a private address; "
        "only public addresses are allowed."
    )


def test_one_private_address_among_public_ones_is_enough_to_refuse():
    resolve = resolver_for({"mixed.example.com": ["93.184.215.14", "127.0.0.1"]})
    with pytest.raises(UnsafeURL, match=r"127\.0\.0\.1"):
        check_url("http://mixed.example.com/", resolver=resolve)


def test_a_public_name_is_pinned_to_its_first_address():
    resolve = resolver_for({"www.example.com": ["93.184.215.14", "2606:2800:21f:cb07::1"]})
    target = check_url("https://WWW.Example.COM./a?b=1", resolver=resolve)
    assert (target.scheme, target.host, target.port, target.address) == (
        "https",
        "www.example.com",
        443,
        "93.184.215.14",
    )
    assert target.host_header == "www.example.com"


def test_an_international_name_is_resolved_in_its_ascii_form():
    calls: list[str] = []
    resolve = resolver_for({"xn--bcher-kva.example": ["93.184.215.14"]}, calls)
    target = check_url("http://bücher.example:8080/", resolver=resolve)
    assert calls == ["xn--bcher-kva.example"]
    assert target.host_header == "xn--bcher-kva.example:8080"


def test_localhost_names_are_refused_without_asking_dns():
    for url in ("http://localhost/", "http://LOCALHOST:8000/", "http://api.localhost/"):
        with pytest.raises(UnsafeURL, match="loopback"):
            check_url(url, resolver=no_dns)


def test_an_unresolvable_name_is_a_resolution_error():
    with pytest.raises(ResolutionError, match=r"nowhere\.invalid"):
        check_url("http://nowhere.invalid/", resolver=resolver_for({}))
    with pytest.raises(ResolutionError, match="no addresses"):
        check_url("http://empty.example/", resolver=resolver_for({"empty.example": []}))


def test_the_allow_list_opens_named_hosts_and_ports_only():
    allow = ["127.0.0.1:8001", "devbox.internal", "[::1]:9000"]
    resolve = resolver_for(
        {"devbox.internal": ["192.168.1.20"], "other.internal": ["192.168.1.21"]}
    )
    assert check_url("http://127.0.0.1:8001/", allow_hosts=allow).allow_listed
    assert check_url("http://devbox.internal:1234/", allow_hosts=allow, resolver=resolve)
    assert check_url("http://[::1]:9000/", allow_hosts=allow).address == "::1"
    for url in (
        "http://127.0.0.1:8002/",
        "http://127.0.0.1/",
        "http://other.internal/",
        "http://[::1]:9001/",
    ):
        with pytest.raises(UnsafeURL):
            check_url(url, allow_hosts=allow, resolver=resolve)


def test_an_allowed_address_matches_in_any_notation():
    assert check_url("http://2130706433:8001/", allow_hosts=["127.0.0.1:8001"]).allow_listed
    assert AllowList.parse([" LocalHost:80 ", ""]).allows("localhost", 80)


def test_cloud_metadata_stays_refused_even_when_allow_listed():
    with pytest.raises(UnsafeURL, match="cloud metadata"):
        check_url("http://169.254.169.254/latest/meta-data/", allow_hosts=["169.254.169.254"])
    resolve = resolver_for({"metadata.google.internal": ["169.254.169.254"]})
    with pytest.raises(UnsafeURL, match="cloud metadata"):
        check_url(
            "http://metadata.google.internal/",
            allow_hosts=["metadata.google.internal"],
            resolver=resolve,
        )


def test_credentials_are_accepted_but_never_shown():
    assert (
        redact_url("https://user:s3cret@example.com:8443/p?q=1") == "https://example.com:8443/p?q=1"
    )
    assert redact_url("https://example.com/") == "https://example.com/"
    with pytest.raises(UnsafeURL) as caught:
        check_url("http://user:s3cret@10.0.0.1/", resolver=no_dns)
    assert "s3cret" not in str(caught.value)


# --- Real requests to 127.0.0.1 -------------------------------------------------------------


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with LocalServer() as running:
        yield running


@pytest.fixture
def canary() -> Iterator[LocalServer]:
    """A server that nothing may reach: every test asserts it saw no request."""
    with LocalServer() as running:
        yield running
        assert running.requests == []


def test_it_fetches_from_an_allowed_local_server(server):
    server.queue(Reply(200, b"hello", {"Content-Type": "text/plain; charset=utf-8", "X-A": "1"}))
    response = safe_request(
        "GET", server.url("/page?x=1"), allow_hosts=[server.netloc], user_agent="TestBot/1"
    )
    assert (response.status, response.body, response.truncated) == (200, b"hello", False)
    assert response.ok and response.text == "hello"
    assert response.headers["x-a"] == "1"
    assert response.url == server.url("/page?x=1")
    assert response.elapsed_ms >= 0
    (seen,) = server.requests
    assert (seen.method, seen.path) == ("GET", "/page?x=1")
    assert seen.headers["host"] == server.netloc
    assert seen.headers["user-agent"] == "TestBot/1"


def test_it_posts_a_body_with_headers(server):
    response = safe_request(
        "POST",
        server.url("/hook"),
        headers={"Content-Type": "application/json", "X-Sig": "v1,abc"},
        data=b'{"a": 1}',
        allow_hosts=[server.netloc],
    )
    assert response.status == 200
    (seen,) = server.requests
    assert seen.body == b'{"a": 1}'
    assert seen.headers["x-sig"] == "v1,abc"
    assert seen.headers["content-type"] == "application/json"


def test_a_loopback_server_is_not_reached_without_the_allow_list(canary):
    with pytest.raises(UnsafeURL, match="loopback"):
        safe_request("GET", canary.url("/"))
    with pytest.raises(UnsafeURL):
        safe_request("GET", canary.url("/"), allow_hosts=[f"127.0.0.1:{canary.port + 1}"])


def test_it_connects_to_the_checked_address_and_keeps_the_host_name(server):
    # The name exists only in the stub resolver: if anything resolved it a second time (the
    # DNS-rebinding window), the request could not reach the server at all.
    calls: list[str] = []
    resolve = resolver_for({"hooks.example.test": ["127.0.0.1"]}, calls)
    response = safe_request(
        "GET",
        f"http://hooks.example.test:{server.port}/x",
        allow_hosts=["hooks.example.test"],
        resolver=resolve,
    )
    assert response.status == 200
    assert calls == ["hooks.example.test"]
    assert server.requests[0].headers["host"] == f"hooks.example.test:{server.port}"


def test_a_rebinding_name_is_judged_on_the_answer_it_is_connected_to(canary):
    answers = iter([["127.0.0.1"], ["93.184.215.14"]])
    with pytest.raises(UnsafeURL, match=r"resolves to 127\.0\.0\.1"):
        safe_request(
            "GET",
            f"http://rebind.example.com:{canary.port}/",
            resolver=lambda host, port: next(answers),
        )


def test_credentials_in_the_url_are_sent_but_not_reported(server):
    url = server.url("/private").replace("://", "://alice:s3cret@")
    response = safe_request("GET", url, allow_hosts=[server.netloc])
    expected = "Basic " + base64.b64encode(b"alice:s3cret").decode()
    assert server.requests[0].headers["authorization"] == expected
    assert "s3cret" not in response.url


def test_an_error_status_is_a_response_not_an_exception(server):
    server.queue(Reply(503, b"busy", {"Retry-After": "120"}))
    response = safe_request("GET", server.url("/"), allow_hosts=[server.netloc])
    assert (response.status, response.ok, response.headers["retry-after"]) == (503, False, "120")


def test_the_body_is_cut_at_the_size_cap(server):
    server.queue(Reply(200, b"a" * 100_000), Reply(200, b"b" * 1000))
    big = safe_request("GET", server.url("/"), allow_hosts=[server.netloc], max_bytes=10_000)
    assert (len(big.body), big.truncated) == (10_000, True)
    exact = safe_request("GET", server.url("/"), allow_hosts=[server.netloc], max_bytes=1000)
    assert (len(exact.body), exact.truncated) == (1000, False)


def test_an_endless_body_stops_being_read_at_the_cap(server):
    def endless() -> Iterator[bytes]:
        for _ in range(50 * 1024):  # 50 MB if anyone read it all
            yield b"x" * 1024

    server.queue(Reply(200, chunks=endless()))
    started = time.perf_counter()
    response = safe_request("GET", server.url("/"), allow_hosts=[server.netloc], max_bytes=65_536)
    assert (len(response.body), response.truncated) == (65_536, True)
    assert time.perf_counter() - started < 5


def test_a_compressed_bomb_is_capped_after_decompression(server):
    bomb = gzip.compress(b"\0" * 10_000_000)
    assert len(bomb) < 20_000
    server.queue(Reply(200, bomb, {"Content-Encoding": "gzip"}))
    response = safe_request("GET", server.url("/"), allow_hosts=[server.netloc], max_bytes=65_536)
    assert (len(response.body), response.truncated) == (65_536, True)
    assert set(response.body) == {0}


def test_a_server_that_does_not_answer_times_out(server):
    server.queue(Reply(200, delay=3))
    started = time.perf_counter()
    with pytest.raises(FetchTimeout, match=r"did not answer within 0\.3s"):
        safe_request("GET", server.url("/"), allow_hosts=[server.netloc], timeout=(1, 0.3))
    assert time.perf_counter() - started < 2


def test_a_slow_drip_is_cut_by_the_total_timeout(server):
    server.queue(Reply(200, chunks=(b"x" for _ in range(100)), chunk_delay=0.1))
    started = time.perf_counter()
    with pytest.raises(FetchTimeout, match="too slowly"):
        safe_request(
            "GET", server.url("/"), allow_hosts=[server.netloc], timeout=(1, 1), total_timeout=0.5
        )
    assert time.perf_counter() - started < 2


def test_a_connection_that_is_never_accepted_times_out():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    # Fill the accept queue so the kernel drops further connection attempts.
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.1", port))
        fillers.append(filler)
    try:
        with pytest.raises(FetchTimeout, match=r"Connecting to 127\.0\.0\.1"):
            safe_request(
                "GET",
                f"http://127.0.0.1:{port}/",
                allow_hosts=[f"127.0.0.1:{port}"],
                timeout=(0.3, 1),
            )
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


def test_a_closed_port_is_a_fetch_error():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    with pytest.raises(FetchError, match=rf"Could not connect to 127\.0\.0\.1:{port}"):
        safe_request("GET", f"http://127.0.0.1:{port}/", allow_hosts=[f"127.0.0.1:{port}"])


def test_redirects_are_returned_as_they_are_by_default(server):
    server.queue(Reply(302, b"", {"Location": "/elsewhere"}))
    response = safe_request("POST", server.url("/hook"), data=b"x", allow_hosts=[server.netloc])
    assert response.status == 302
    assert response.headers["location"] == "/elsewhere"
    assert len(server.requests) == 1


def test_it_follows_redirects_when_asked(server):
    server.queue(
        Reply(301, b"", {"Location": "/second"}),
        Reply(308, b"", {"Location": server.url("/third")}),
        Reply(200, b"done"),
    )
    response = safe_request(
        "GET", server.url("/first"), allow_hosts=[server.netloc], max_redirects=5
    )
    assert (response.status, response.body) == (200, b"done")
    assert response.url == server.url("/third")
    assert response.redirects == (server.url("/first"), server.url("/second"))
    assert [r.path for r in server.requests] == ["/first", "/second", "/third"]


def test_a_303_turns_a_post_into_a_get_and_a_307_keeps_it(server):
    server.queue(Reply(303, b"", {"Location": "/a"}), Reply(200))
    safe_request(
        "POST", server.url("/"), data=b"body", allow_hosts=[server.netloc], max_redirects=1
    )
    assert [(r.method, r.body) for r in server.requests] == [("POST", b"body"), ("GET", b"")]
    server.requests.clear()
    server.queue(Reply(307, b"", {"Location": "/b"}), Reply(200))
    safe_request(
        "POST", server.url("/"), data=b"body", allow_hosts=[server.netloc], max_redirects=1
    )
    assert [(r.method, r.body) for r in server.requests] == [("POST", b"body"), ("POST", b"body")]


def test_every_redirect_hop_is_checked_again(server, canary):
    for location in (
        canary.url("/stolen"),  # a private server not on the allow list
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:127.0.0.1]/",
        f"http://localhost:{canary.port}/",
        "http://2130706433/",
        "file:///etc/passwd",
    ):
        server.queue(Reply(302, b"", {"Location": location}))
        with pytest.raises(UnsafeURL):
            safe_request("GET", server.url("/"), allow_hosts=[server.netloc], max_redirects=5)


def test_a_redirect_loop_stops_at_the_limit(server):
    server.default = Reply(302, b"", {"Location": "/again"})
    with pytest.raises(TooManyRedirects, match="more than 5 times"):
        safe_request("GET", server.url("/"), allow_hosts=[server.netloc], max_redirects=5)
    assert len(server.requests) == 6


def test_credentials_do_not_follow_a_redirect_to_another_origin(server):
    with LocalServer() as second:
        allow = [server.netloc, second.netloc]
        server.queue(
            Reply(302, b"", {"Location": "/same"}), Reply(302, b"", {"Location": second.url("/")})
        )
        safe_request(
            "GET",
            server.url("/"),
            headers={"Authorization": "Bearer t0ken", "Cookie": "s=1"},
            allow_hosts=allow,
            max_redirects=3,
        )
        assert server.requests[1].headers["authorization"] == "Bearer t0ken"
        assert "authorization" not in second.requests[0].headers
        assert "cookie" not in second.requests[0].headers


# --- TLS: SNI and certificate checked against the name, socket to the pinned address ----------


def _make_tls(tmp_path, name: str) -> tuple[ssl.SSLContext, str]:
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return context, str(cert_path)


def test_https_verifies_the_certificate_for_the_name_while_connecting_to_the_address(tmp_path):
    context, ca = _make_tls(tmp_path, "secure.example.test")
    server_names: list[str | None] = []
    context.sni_callback = lambda sock, name, ctx: server_names.append(name)
    resolve = resolver_for(
        {"secure.example.test": ["127.0.0.1"], "wrong.example.test": ["127.0.0.1"]}
    )
    with LocalServer(tls=context) as server:
        response = safe_request(
            "GET",
            server.url("/tls", host="secure.example.test"),
            allow_hosts=["secure.example.test", "wrong.example.test"],
            resolver=resolve,
            verify=ca,
        )
        assert (response.status, response.body) == (200, b"ok")
        assert server_names == ["secure.example.test"]
        assert server.requests[0].headers["host"] == f"secure.example.test:{server.port}"

        # The same address under a name the certificate does not cover is refused.
        with pytest.raises(FetchError, match="TLS handshake"):
            safe_request(
                "GET",
                server.url("/tls", host="wrong.example.test"),
                allow_hosts=["wrong.example.test"],
                resolver=resolve,
                verify=ca,
            )
        # And an untrusted certificate is refused with the default trust store.
        with pytest.raises(FetchError, match="TLS handshake"):
            safe_request(
                "GET",
                server.url("/tls", host="secure.example.test"),
                allow_hosts=["secure.example.test"],
                resolver=resolve,
            )
        assert len(server.requests) == 1
