"""Outgoing HTTP, guarded against server-side request forgery: webhook deliveries to
supplier URLs (:func:`post`) and the supplier images a share poster embeds (:func:`fetch`).

Supplier URLs are chosen by suppliers, so a POST must not become a way to reach the
platform's own network (cloud metadata at 169.254.169.254, databases on 10.x, localhost
admin ports). Two layers:

* :func:`check_url` when a URL is configured: https only, no credentials, and no private
  address when the host is an IP literal.
* :func:`post` at delivery time: it resolves the host itself, refuses if *any* answer is
  not a public address, and connects to the very address it checked, so a DNS answer that
  changes between check and connect (DNS rebinding) cannot redirect the request. The
  ``Host`` header, TLS SNI and certificate verification still use the URL's host name.

Each delivery uses one urllib3 connection of its own rather than a pool, so nothing is
retried (retries are the outbox's business), no redirect is followed (a 3xx could point
anywhere; it is reported as its status), no proxy is read from the environment, and no
connection is reused. A delivery ends after ``policy.timeout`` seconds in total: socket
timeouts bound each operation only, so a watchdog shuts the socket at the deadline to stop
a peer that trickles bytes. The timeout does not bound the system resolver
(``getaddrinfo`` cannot be interrupted); its own timeouts (``resolv.conf``) apply.

A response larger than ``policy.max_response_bytes`` is not a failure: its status code
decides, reading stops at the limit and the connection is closed.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from http.client import HTTPException

import urllib3.exceptions
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

from .errors import ValidationError

__all__ = ["DeliveryResult", "Fetched", "TransportPolicy", "check_url", "fetch", "post"]

#: Longest URL accepted; longer ones are abuse or a mistake, and some servers reject them.
MAX_URL_LENGTH = 2048

#: Characters of the response body kept in :attr:`DeliveryResult.response_excerpt`.
EXCERPT_CHARS = 500

_IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# IPv6 prefix of NAT64 gateways (RFC 6052): the low 32 bits are the IPv4 destination.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


@dataclass(frozen=True)
class TransportPolicy:
    """What a delivery may do. The defaults are for production; tests relax them."""

    #: Allow plain ``http://`` URLs (local development only: webhooks carry order data).
    allow_http: bool = False
    #: Allow loopback, private and other non-public addresses (local development, tests).
    allow_private: bool = False
    #: Total seconds for connect, TLS handshake, sending and reading the response.
    timeout: float = 10.0
    #: Bytes of the response body read at most; the rest is never read.
    max_response_bytes: int = 64 * 1024

    def __post_init__(self) -> None:
        if not self.timeout > 0:
            raise ValueError("timeout must be > 0")
        if self.max_response_bytes < 0:
            raise ValueError("max_response_bytes must be >= 0")


@dataclass(frozen=True)
class DeliveryResult:
    """The outcome of one POST, for the delivery log; :func:`post` never raises it away."""

    #: HTTP status of the response, or ``None`` when none arrived.
    status_code: int | None
    #: Why the delivery failed apart from its status code (network, TLS, timeout, blocked).
    error: str | None
    duration_ms: int
    #: The start of the response body, decoded as UTF-8 with replacement characters.
    response_excerpt: str

    @property
    def ok(self) -> bool:
        """True for a 2xx response that arrived completely within the deadline."""
        return self.error is None and self.status_code is not None and 200 <= self.status_code < 300


def check_url(url: str, policy: TransportPolicy) -> str:
    """Return ``url`` unchanged if it may receive webhooks, else raise ``ValidationError``.

    A static check for configuration time: host names are not resolved here (their
    addresses can change), :func:`post` checks those on every delivery.
    """
    if len(url) > MAX_URL_LENGTH:
        raise ValidationError(f"URL is longer than {MAX_URL_LENGTH} characters")
    try:
        parsed = parse_url(url)
    except LocationParseError as exc:
        raise ValidationError(f"URL cannot be parsed (bad host or port?): {exc}")
    schemes = ("https", "http") if policy.allow_http else ("https",)
    if parsed.scheme is None:
        raise ValidationError("URL must be absolute (https://host/path)")
    if parsed.scheme not in schemes:
        raise ValidationError(f"URL scheme must be {' or '.join(schemes)}, not {parsed.scheme}")
    if parsed.auth is not None:
        raise ValidationError("URL must not contain credentials (user:password@)")
    if not parsed.host:
        raise ValidationError("URL has no host")
    if parsed.port is not None and not 1 <= parsed.port <= 65535:
        raise ValidationError(f"URL port {parsed.port} is out of range (1-65535)")
    address = _ip_literal(parsed.host.strip("[]"))
    if address is not None and not policy.allow_private:
        problem = _address_problem(address)
        if problem is not None:
            raise ValidationError(f"blocked: {problem}")
    return url


def post(url: str, body: bytes, headers: dict[str, str], policy: TransportPolicy) -> DeliveryResult:
    """POST ``body`` with ``headers`` to ``url`` under ``policy``; failures become results.

    Network, TLS, timeout and address problems, and a URL that :func:`check_url` refuses,
    are reported in :attr:`DeliveryResult.error`; nothing is raised for them.
    """
    started = time.monotonic()
    status, data, error, _type = _exchange(
        "POST", url, body, headers, policy, policy.max_response_bytes
    )
    excerpt = data.decode("utf-8", "replace")[:EXCERPT_CHARS]
    return DeliveryResult(status, error, _elapsed_ms(started), excerpt)


@dataclass(frozen=True)
class Fetched:
    """The outcome of one GET by :func:`fetch`: the body when it arrived whole, with a
    2xx status, within the policy's time and size; else why not (``error``)."""

    status_code: int | None
    error: str | None
    body: bytes = b""
    content_type: str = ""

    @property
    def ok(self) -> bool:
        """True when the whole body arrived with a 2xx status."""
        return self.error is None and self.status_code is not None and 200 <= self.status_code < 300


def fetch(url: str, policy: TransportPolicy, accept: str = "*/*") -> Fetched:
    """GET ``url`` under ``policy`` (the same address checks, pinned connection and deadline
    as :func:`post`; no redirect followed): a body over ``policy.max_response_bytes`` is
    refused, not cut. Failures become results; nothing is raised for them."""
    limit = policy.max_response_bytes
    headers = {"Accept": accept, "User-Agent": "storefront-sdk"}
    status, data, error, content_type = _exchange("GET", url, None, headers, policy, limit + 1)
    if error is None and len(data) > limit:
        error = f"the response is larger than {limit} bytes"
    if error is None and status is not None and not 200 <= status < 300:
        error = f"the server answered {status}"
    if error is not None:
        return Fetched(status, error)
    return Fetched(status, None, data, content_type)


def _exchange(
    method: str,
    url: str,
    body: bytes | None,
    headers: dict[str, str],
    policy: TransportPolicy,
    limit: int,
) -> tuple[int | None, bytes, str | None, str]:
    """One request on a pinned connection of its own: the status, at most ``limit`` bytes of
    the body, what went wrong (``None`` when nothing did) and the body's content type."""
    deadline = time.monotonic() + policy.timeout
    try:
        check_url(url, policy)
    except ValidationError as exc:
        return None, b"", exc.message, ""
    parsed = parse_url(url)
    assert parsed.host is not None  # check_url refuses URLs without a host
    https = parsed.scheme == "https"
    host = parsed.host.strip("[]")
    port = parsed.port or (443 if https else 80)
    target = _Target(host, port, policy.allow_private, deadline)
    conn: HTTPConnection = (
        _PinnedHTTPSConnection(host, port, target)
        if https
        else _PinnedHTTPConnection(host, port, target)
    )
    watchdog = _Watchdog(conn, deadline - time.monotonic())
    status: int | None = None
    data = b""
    error: str | None = None
    content_type = ""
    response: urllib3.HTTPResponse | None = None
    try:
        conn.connect()
        watchdog.watch(conn.sock)
        conn.timeout = target.remaining()
        conn.request(
            method,
            parsed.request_uri,
            body=body,
            headers=headers,
            preload_content=False,
            decode_content=False,
        )
        conn.timeout = target.remaining()
        response = conn.getresponse()
        status = response.status
        content_type = response.headers.get("Content-Type", "")
        data = _read_capped(response, limit)
    except (_Blocked, OSError, HTTPException, urllib3.exceptions.HTTPError) as exc:
        error = _describe(exc, host, policy.timeout)
    finally:
        fired = watchdog.stop()
        if response is not None:
            response.close()
        conn.close()
    if fired:
        # Once the watchdog has shut the socket, an error or an early end of the body is
        # only a consequence of the timeout.
        error = _timed_out(policy.timeout)
    return status, data, error, content_type


class _Blocked(Exception):
    """A resolved address of the host is not allowed; the message is the delivery error."""


@dataclass(frozen=True)
class _Target:
    """Where a delivery connects: resolved and checked once, at connect time."""

    host: str
    port: int
    allow_private: bool
    deadline: float

    def remaining(self) -> float:
        """Seconds left before the deadline; ``TimeoutError`` once none are."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("deadline passed")
        return left

    def connect(self, options: list[tuple[int, int, int | bytes]] | None) -> socket.socket:
        """A socket connected to an address of the host, every one of which was checked."""
        answers = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM)
        if not self.allow_private:
            for *_, sockaddr in answers:
                problem = _address_problem(ipaddress.ip_address(sockaddr[0]))
                if problem is not None:
                    raise _Blocked(f"blocked: {problem}")
        last_error: OSError = OSError(f"no address for {self.host}")
        for family, kind, proto, _, sockaddr in answers:
            sock = socket.socket(family, kind, proto)
            try:
                for level, name, value in options or ():
                    sock.setsockopt(level, name, value)
                sock.settimeout(self.remaining())
                sock.connect(sockaddr)
            except OSError as exc:
                sock.close()
                last_error = exc
                continue
            return sock
        raise last_error


class _PinnedHTTPConnection(HTTPConnection):
    """Connects to the checked address of its target instead of resolving the host again."""

    def __init__(self, host: str, port: int, target: _Target) -> None:
        super().__init__(host, port)
        self._target = target

    def _new_conn(self) -> socket.socket:
        return self._target.connect(self.socket_options)


class _PinnedHTTPSConnection(HTTPSConnection):
    """As :class:`_PinnedHTTPConnection`; SNI and certificate checks use the host name."""

    def __init__(self, host: str, port: int, target: _Target) -> None:
        super().__init__(host, port, cert_reqs=ssl.CERT_REQUIRED)
        self._target = target

    def _new_conn(self) -> socket.socket:
        return self._target.connect(self.socket_options)


class _Watchdog:
    """Shuts the connection's socket when the total timeout expires.

    Socket timeouts bound each ``recv``, not their sum: a peer sending a byte every
    second would otherwise hold the delivery for as long as it likes.
    """

    def __init__(self, conn: HTTPConnection, seconds: float) -> None:
        self._conn = conn
        self._connected: socket.socket | None = None
        self._fired = threading.Event()
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def watch(self, sock: socket.socket | None) -> None:
        """Remember the connected (TLS) socket: the connection forgets it when a response
        says ``Connection: close``, while the response still reads from it."""
        self._connected = sock

    def _fire(self) -> None:
        self._fired.set()
        # Until connected, the connection's own socket (the TLS handshake may be stuck).
        sock = self._connected if self._connected is not None else self._conn.sock
        if sock is not None:
            # socket.socket's shutdown, not SSLSocket's: that one also drops the TLS
            # state under the reading thread, which then fails with ValueError.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)

    def stop(self) -> bool:
        """Stop the timer (waiting for a running shutdown); whether it fired."""
        self._timer.cancel()
        self._timer.join()
        return self._fired.is_set()


def _read_capped(response: urllib3.HTTPResponse, limit: int) -> bytes:
    """At most ``limit`` bytes of the body, as sent (no decompression: no zip bombs)."""
    data = bytearray()
    while len(data) < limit:
        chunk = response.read(limit - len(data), decode_content=False)
        if not chunk:
            break
        data += chunk
    return bytes(data)


def _describe(exc: Exception, host: str, timeout: float) -> str:
    """The delivery error for an exception raised while connecting, sending or reading."""
    if isinstance(exc, _Blocked):
        return str(exc)
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve {host}: {exc.strerror}"
    if isinstance(exc, TimeoutError | urllib3.exceptions.ReadTimeoutError):
        return _timed_out(timeout)
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ssl.SSLError | urllib3.exceptions.SSLError):
        return f"TLS error: {exc}"
    if isinstance(exc, HTTPException | urllib3.exceptions.HTTPError):
        return f"protocol error: {exc}"
    return f"connection error: {exc}"


def _timed_out(seconds: float) -> str:
    return f"timed out after {seconds:g} s"


def _ip_literal(host: str) -> _IPAddress | None:
    """The address ``host`` denotes if it is an IP literal, as the resolver would read it.

    Besides the canonical forms this covers the legacy IPv4 spellings that
    ``getaddrinfo`` also accepts (``127.1``, ``0x7f000001``, ``2130706433``).
    """
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, ValueError):
        return None


def _address_problem(address: _IPAddress) -> str | None:
    """Why a delivery must not connect to ``address``, or ``None`` if it is public."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            kind = _non_public_kind(embedded)
            return None if kind is None else f"{address} embeds {embedded}, {kind}"
    kind = _non_public_kind(address)
    return None if kind is None else f"{address} is {kind}"


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address reached through a mapped, NAT64 or 6to4 IPv6 address."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def _non_public_kind(address: _IPAddress) -> str | None:
    """What kind of non-public address ``address`` is, or ``None`` for public unicast."""
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_private:
        return "a private address"
    if address.is_reserved:
        return "a reserved address"
    if isinstance(address, ipaddress.IPv6Address) and address.is_site_local:
        return "a site-local address"
    if not address.is_global:  # e.g. 100.64.0.0/10, carrier-grade NAT
        return "not a public address"
    return None


def _elapsed_ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
