"""Unit tests for storefront_sdk.fulfillment.transport: webhook delivery over real local sockets.

The servers are stdlib ``http.server`` instances on 127.0.0.1 (so most tests set
``allow_private``). ``socket.getaddrinfo`` is replaced only to simulate DNS answers.
"""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from storefront_sdk.errors import ValidationError
from storefront_sdk.outbound import DeliveryResult, TransportPolicy, check_url, post

LOCAL = TransportPolicy(allow_http=True, allow_private=True, timeout=0.5)
STRICT_HTTP = TransportPolicy(allow_http=True, timeout=0.5)
# A public address (example.com's) for simulated DNS answers. Never connected to: each
# answer list that holds it also holds a blocked address, refused before any connection.
PUBLIC_IP = "93.184.215.14"

Behaviour = Callable[["_Handler"], None]


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    headers: Message
    body: bytes


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: LocalServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet: several tests hang up on purpose while the handler is still writing."""


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        owner = self.server.owner
        owner.requests.append(Recorded(self.command, self.path, self.headers, body))
        owner.behaviour(self)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class LocalServer:
    """A local HTTP(S) server that records requests and answers with ``behaviour``."""

    def __init__(self, address: str = "127.0.0.1", tls: ssl.SSLContext | None = None) -> None:
        self.requests: list[Recorded] = []
        self.behaviour: Behaviour = reply(200, b"accepted")
        #: Set at teardown to end handlers that wait or trickle.
        self.released = threading.Event()
        #: Server names (SNI) that TLS clients sent.
        self.sni: list[str | None] = []
        self._httpd = _Server((address, 0), _Handler)
        self._httpd.owner = self
        self.port: int = self._httpd.server_address[1]
        self.scheme = "http"
        if tls is not None:
            tls.sni_callback = self._record_sni
            self._httpd.socket = tls.wrap_socket(self._httpd.socket, server_side=True)
            self.scheme = "https"
        serve = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        serve.start()

    def url(self, path: str = "/hook", host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    def _record_sni(self, _sock: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
        self.sni.append(name)

    def close(self) -> None:
        self.released.set()
        self._httpd.shutdown()
        self._httpd.server_close()


def reply(status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> Behaviour:
    def behaviour(handler: _Handler) -> None:
        handler.send_response(status)
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return behaviour


@pytest.fixture
def server() -> Iterator[LocalServer]:
    local = LocalServer()
    yield local
    local.close()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A self-signed certificate (and its key, in the same file) for ``supplier.example``."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("needs the openssl command to make a certificate")
    pem = tmp_path_factory.mktemp("tls") / "supplier.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(pem), "-out", str(pem), "-subj", "/CN=supplier.example",
         "-addext", "subjectAltName=DNS:supplier.example"],
        check=True, capture_output=True,
    )  # fmt: skip
    return pem


@pytest.fixture
def tls_server(certificate: Path) -> Iterator[LocalServer]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate)
    local = LocalServer(tls=context)
    yield local
    local.close()


def trust(monkeypatch: pytest.MonkeyPatch, certificate: Path) -> None:
    """Make the test certificate the only trusted one (OpenSSL's default verify paths)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)


def timed(url: str, policy: TransportPolicy, body: bytes = b"{}") -> tuple[DeliveryResult, float]:
    started = time.monotonic()
    result = post(url, body, {"Content-Type": "application/json"}, policy)
    return result, time.monotonic() - started


def fake_dns(monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[list[str]]]) -> list[str]:
    """Answer ``host`` with the next list of addresses in ``answers[host]`` (the last repeats).

    Other names go to the real resolver. Returns the names looked up, in order.
    """
    real = socket.getaddrinfo
    calls: list[str] = []

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in answers:
            return real(host, port, *args, **kwargs)
        calls.append(host)
        addresses = answers[host][min(calls.count(host), len(answers[host])) - 1]
        return [
            (socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (a, port, 0, 0))
            if ":" in a
            else (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (a, port))
            for a in addresses
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return calls


# --- responses ---------------------------------------------------------------------------------


def test_2xx_is_ok(server: LocalServer) -> None:
    server.behaviour = reply(202, b"queued")
    result, _ = timed(server.url(), LOCAL)
    assert result.ok
    assert (result.status_code, result.error, result.response_excerpt) == (202, None, "queued")
    assert result.duration_ms >= 0


def test_request_carries_host_headers_and_body(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_dns(monkeypatch, {"supplier.example": [["127.0.0.1"]]})
    headers = {"Content-Type": "application/json", "Storefront-Signature": "t=1,v1=ab"}
    url = server.url("/hooks/in?shop=7", host="supplier.example")
    result = post(url, b'{"id":"evt_1"}', headers, LOCAL)
    assert result.ok, result
    [request] = server.requests
    assert (request.method, request.path, request.body) == (
        "POST",
        "/hooks/in?shop=7",
        b'{"id":"evt_1"}',
    )
    assert request.headers["Host"] == f"supplier.example:{server.port}"
    assert request.headers["Storefront-Signature"] == "t=1,v1=ab"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Content-Length"] == "14"


def test_500_is_a_failure_with_its_status(server: LocalServer) -> None:
    server.behaviour = reply(500, b"boom")
    result, _ = timed(server.url(), LOCAL)
    assert not result.ok
    assert (result.status_code, result.error, result.response_excerpt) == (500, None, "boom")


def test_redirect_is_not_followed(server: LocalServer) -> None:
    server.behaviour = reply(302, b"", {"Location": server.url("/elsewhere")})
    result, _ = timed(server.url(), LOCAL)
    assert not result.ok
    assert result.status_code == 302
    assert [r.path for r in server.requests] == ["/hook"]


def test_excerpt_is_500_characters_decoded_leniently(server: LocalServer) -> None:
    server.behaviour = reply(400, "é".encode() * 600 + b"\xff")
    result, _ = timed(server.url(), LOCAL)
    assert result.response_excerpt == "é" * 500
    server.behaviour = reply(400, b"bad \xff byte")
    result, _ = timed(server.url(), LOCAL)
    assert result.response_excerpt == "bad \ufffd byte"


def test_body_is_cut_at_max_response_bytes(server: LocalServer) -> None:
    server.behaviour = reply(200, b"0123456789abcdef")
    small = TransportPolicy(allow_http=True, allow_private=True, max_response_bytes=10)
    result, _ = timed(server.url(), small)
    assert result.ok
    assert result.response_excerpt == "0123456789"


def test_huge_response_is_read_up_to_the_limit_only(server: LocalServer) -> None:
    def endless(handler: _Handler) -> None:
        handler.send_response(200)
        handler.end_headers()  # no Content-Length: the body runs until the connection closes
        chunk = b"x" * 65536
        for _ in range(16384):  # 1 GiB, unless the client hangs up first
            handler.wfile.write(chunk)

    server.behaviour = endless
    tracemalloc.start()
    try:
        result, elapsed = timed(server.url(), TransportPolicy(allow_http=True, allow_private=True))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.ok, result
    assert result.response_excerpt == "x" * 500
    assert peak < 2 * 1024 * 1024
    assert elapsed < 2


# --- deadlines ---------------------------------------------------------------------------------


def test_slow_server_times_out(server: LocalServer) -> None:
    def slow(handler: _Handler) -> None:
        server.released.wait(5)
        reply(200)(handler)

    server.behaviour = slow
    result, elapsed = timed(server.url(), LOCAL)
    assert (result.status_code, result.error) == (None, "timed out after 0.5 s")
    assert not result.ok
    assert elapsed < 1.5


def trickle_body(server: LocalServer) -> Behaviour:
    def trickle(handler: _Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", "50")
        handler.end_headers()
        for _ in range(50):  # one byte every 0.2 s: 10 s in all
            handler.wfile.write(b"x")
            if server.released.wait(0.2):
                return

    return trickle


def test_trickling_body_is_cut_at_the_deadline(server: LocalServer) -> None:
    server.behaviour = trickle_body(server)
    result, elapsed = timed(server.url(), LOCAL)
    assert (result.status_code, result.error) == (200, "timed out after 0.5 s")
    assert not result.ok
    assert elapsed < 1.5


def test_trickling_headers_are_cut_at_the_deadline(server: LocalServer) -> None:
    def trickle(handler: _Handler) -> None:
        for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"y" * 60:
            handler.wfile.write(bytes([byte]))
            if server.released.wait(0.2):
                return

    server.behaviour = trickle
    result, elapsed = timed(server.url(), LOCAL)
    assert (result.status_code, result.error) == (None, "timed out after 0.5 s")
    assert elapsed < 1.5


def test_stalled_tls_handshake_times_out() -> None:
    # The kernel accepts connections into the backlog; nobody ever answers the ClientHello.
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        policy = TransportPolicy(allow_private=True, timeout=0.5)
        result, elapsed = timed(f"https://127.0.0.1:{port}/hook", policy)
    assert (result.status_code, result.error) == (None, "timed out after 0.5 s")
    assert elapsed < 1.5


# --- connection errors -------------------------------------------------------------------------


def test_connection_refused() -> None:
    with socket.create_server(("127.0.0.1", 0)) as closed:
        port = closed.getsockname()[1]
    result, _ = timed(f"http://127.0.0.1:{port}/hook", LOCAL)
    assert (result.status_code, result.error) == (None, "connection refused")


def test_https_to_a_plain_http_port_is_a_tls_error(server: LocalServer) -> None:
    policy = TransportPolicy(allow_private=True, timeout=0.5)
    result, elapsed = timed(f"https://127.0.0.1:{server.port}/hook", policy)
    assert result.status_code is None
    assert result.error is not None
    assert result.error.startswith("TLS error: ")
    assert elapsed < 1.5


def test_unknown_host_is_reported() -> None:
    result, _ = timed("https://no-such-host.invalid/hook", TransportPolicy(timeout=0.5))
    assert result.status_code is None
    assert result.error is not None
    assert result.error.startswith("cannot resolve no-such-host.invalid: ")


def test_https_connects_to_the_checked_ip_but_names_the_host(
    tls_server: LocalServer, certificate: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trust(monkeypatch, certificate)
    fake_dns(monkeypatch, {"supplier.example": [["127.0.0.1"]]})
    result, _ = timed(tls_server.url(host="supplier.example"), LOCAL)
    assert result.ok, result
    assert tls_server.sni == ["supplier.example"]
    [request] = tls_server.requests
    assert request.headers["Host"] == f"supplier.example:{tls_server.port}"


def test_https_certificate_must_match_the_url_host(
    tls_server: LocalServer, certificate: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trust(monkeypatch, certificate)
    fake_dns(monkeypatch, {"other.example": [["127.0.0.1"]]})
    result, _ = timed(tls_server.url(host="other.example"), LOCAL)
    assert result.status_code is None
    assert result.error is not None
    assert result.error.startswith("TLS error: ")
    assert "certificate verify failed" in result.error
    assert tls_server.requests == []


def test_https_untrusted_certificate_fails(
    tls_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_dns(monkeypatch, {"supplier.example": [["127.0.0.1"]]})
    result, _ = timed(tls_server.url(host="supplier.example"), LOCAL)
    assert result.error is not None
    assert result.error.startswith("TLS error: ")
    assert "certificate verify failed" in result.error


def test_https_trickling_body_is_cut_at_the_deadline(
    tls_server: LocalServer, certificate: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trust(monkeypatch, certificate)
    fake_dns(monkeypatch, {"supplier.example": [["127.0.0.1"]]})
    tls_server.behaviour = trickle_body(tls_server)
    result, elapsed = timed(tls_server.url(host="supplier.example"), LOCAL)
    assert (result.status_code, result.error) == (200, "timed out after 0.5 s")
    assert elapsed < 1.5


# --- addresses checked at connect time ---------------------------------------------------------


def test_loopback_literal_is_blocked_unless_allowed(server: LocalServer) -> None:
    result, _ = timed(server.url(), STRICT_HTTP)
    assert (result.status_code, result.error) == (None, "blocked: 127.0.0.1 is a loopback address")
    assert server.requests == []
    assert timed(server.url(), LOCAL)[0].ok


def test_host_resolving_to_loopback_is_blocked(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = fake_dns(monkeypatch, {"supplier.example": [["127.0.0.1"]]})
    url = server.url(host="supplier.example")
    check_url(url, STRICT_HTTP)  # a host name passes the static check ...
    result, _ = timed(url, STRICT_HTTP)  # ... and is refused once resolved
    assert (result.status_code, result.error) == (None, "blocked: 127.0.0.1 is a loopback address")
    assert server.requests == []
    assert calls == ["supplier.example"]
    assert timed(url, LOCAL)[0].ok


@pytest.mark.parametrize(
    ("addresses", "error"),
    [
        ([PUBLIC_IP, "10.0.0.5"], "blocked: 10.0.0.5 is a private address"),
        (["10.0.0.5", PUBLIC_IP], "blocked: 10.0.0.5 is a private address"),
        ([PUBLIC_IP, "169.254.169.254"], "blocked: 169.254.169.254 is a link-local address"),
        (
            ["::ffff:127.0.0.1"],
            "embeds 127.0.0.1, a loopback address",
        ),
        (["2606:4700::1", "fd00::1"], "blocked: fd00::1 is a private address"),
    ],
)
def test_any_non_public_answer_blocks(
    monkeypatch: pytest.MonkeyPatch, addresses: list[str], error: str
) -> None:
    fake_dns(monkeypatch, {"supplier.example": [addresses]})
    result, elapsed = timed("http://supplier.example:8080/hook", STRICT_HTTP)
    assert result.status_code is None
    assert result.error is not None
    assert result.error.startswith("blocked: ")
    assert result.error.endswith(error)
    assert elapsed < 0.2  # refused before any connection attempt


def test_dns_rebinding_cannot_redirect_the_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    """A name whose answer changes after the first lookup: the checked answer is used.

    The first answer, 127.0.0.2, has the server; the later ones point at 127.0.0.1, where
    nothing listens on that port. Resolving again to connect would miss the server.
    """
    try:
        checked = LocalServer(address="127.0.0.2")
    except OSError:
        pytest.skip("127.0.0.2 is not a local address here")
    try:
        calls = fake_dns(monkeypatch, {"rebind.example": [["127.0.0.2"], ["127.0.0.1"]]})
        result, _ = timed(checked.url(host="rebind.example"), LOCAL)
        assert result.ok, result
        assert calls == ["rebind.example"]
        assert len(checked.requests) == 1
    finally:
        checked.close()


# --- check_url ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://supplier.example/hook", "URL scheme must be https, not ftp"),
        ("http://supplier.example/hook", "URL scheme must be https, not http"),
        ("https://user:pw@supplier.example/hook", r"must not contain credentials"),
        ("https://user@supplier.example/hook", r"must not contain credentials"),
        ("https:///hook", "URL has no host"),
        ("https://:443/hook", "URL has no host"),
        ("supplier.example/hook", "URL must be absolute"),
        ("https://supplier.example:0/", r"port 0 is out of range"),
        ("https://supplier.example:99999/", "URL cannot be parsed"),
        ("https://supplier example/", "URL cannot be parsed"),
        ("https://supplier.example/" + "a" * 2048, "longer than 2048 characters"),
        ("https://10.0.0.1/", "blocked: 10.0.0.1 is a private address"),
        ("https://192.168.1.1/", "blocked: 192.168.1.1 is a private address"),
        ("https://127.0.0.1/", "blocked: 127.0.0.1 is a loopback address"),
        ("https://127.1/", "blocked: 127.0.0.1 is a loopback address"),
        ("https://2130706433/", "blocked: 127.0.0.1 is a loopback address"),
        ("https://[::1]/", r"blocked: ::1 is a loopback address"),
        ("https://169.254.169.254/latest", "blocked: 169.254.169.254 is a link-local address"),
        ("https://[fe80::1]/", "blocked: fe80::1 is a link-local address"),
        ("https://[::ffff:127.0.0.1]/", "embeds 127.0.0.1, a loopback address"),
        ("https://[::ffff:a9fe:a9fe]/", "embeds 169.254.169.254, a link-local address"),
        ("https://[2002:7f00:1::]/", "blocked: 2002:7f00:1:: embeds 127.0.0.1, a loopback"),
        ("https://[64:ff9b::a00:5]/", "blocked: 64:ff9b::a00:5 embeds 10.0.0.5, a private"),
        ("https://0.0.0.0/", "blocked: 0.0.0.0 is an unspecified address"),
        ("https://[::]/", "blocked: :: is an unspecified address"),
        ("https://224.0.0.1/", "blocked: 224.0.0.1 is a multicast address"),
        ("https://100.64.0.1/", "blocked: 100.64.0.1 is not a public address"),
        ("https://240.0.0.1/", "blocked: 240.0.0.1 is a "),  # private or reserved: Python-dependent
        ("https://[fec0::1]/", "blocked: fec0::1 is a site-local address"),
    ],
)
def test_check_url_refuses(url: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        check_url(url, TransportPolicy())


@pytest.mark.parametrize(
    "url",
    [
        "https://supplier.example/hooks/storefront?x=1",
        "https://supplier.example:8443/",
        "https://8.8.8.8/hook",
        "https://[2606:4700::1]/hook",
        "https://[64:ff9b::808:808]/hook",
        "https://bücher.example/hook",
    ],
)
def test_check_url_accepts_and_returns_unchanged(url: str) -> None:
    assert check_url(url, TransportPolicy()) == url


def test_check_url_relaxations() -> None:
    assert check_url("http://supplier.example/", TransportPolicy(allow_http=True))
    assert check_url("https://10.0.0.1/", TransportPolicy(allow_private=True))
    assert check_url("https://[::1]:8443/", TransportPolicy(allow_private=True))
    with pytest.raises(ValidationError, match="must be https or http, not ftp"):
        check_url("ftp://supplier.example/", TransportPolicy(allow_http=True))


def test_post_reports_a_refused_url_instead_of_raising() -> None:
    result = post("https://user:pw@supplier.example/", b"{}", {}, TransportPolicy())
    assert result.status_code is None
    assert result.error == "URL must not contain credentials (user:password@)"
    assert not result.ok


@pytest.mark.parametrize("timeout", [0, -1, float("nan")])
def test_policy_needs_a_positive_timeout(timeout: float) -> None:
    with pytest.raises(ValueError, match="timeout must be > 0"):
        TransportPolicy(timeout=timeout)


def test_policy_needs_a_non_negative_response_limit() -> None:
    with pytest.raises(ValueError, match="max_response_bytes must be >= 0"):
        TransportPolicy(max_response_bytes=-1)
