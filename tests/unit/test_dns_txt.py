"""The standard-library TXT look-up behind "Check now", against a real name server on a
local UDP port (a small one written here): records found, joined and decoded; no such name;
failures as ``OSError``."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from storefront_sdk.shops.dns import encode_name, parse_txt_answer, system_nameserver, txt_records

NAME = "_storefront-verify.shop.example.com"
Answer = Callable[[bytes], bytes | None]


def _rr(kind: int, rdata: bytes) -> bytes:
    # the record's name is a pointer to the question's (offset 12)
    return b"\xc0\x0c" + struct.pack("!HHIH", kind, 1, 300, len(rdata)) + rdata


def _txt(*strings: bytes) -> bytes:
    return b"".join(bytes([len(s)]) + s for s in strings)


def _reply(query: bytes, records: list[bytes], code: int = 0, flags: int = 0x8180) -> bytes:
    query_id = query[:2]
    question = query[12:]
    header = query_id + struct.pack("!HHHHH", flags | code, 1, len(records), 0, 0)
    return header + question + b"".join(records)


class NameServer:
    """Answers each UDP query with ``answer(query)`` (``None``: stays silent)."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.address = self.sock.getsockname()
        self.queries: list[bytes] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                query, client = self.sock.recvfrom(512)
            except OSError:
                return
            self.queries.append(query)
            reply = self.answer(query)
            if reply is not None:
                self.sock.sendto(reply, client)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def serve() -> Iterator[Callable[[Answer], NameServer]]:
    servers: list[NameServer] = []

    def start(answer: Answer) -> NameServer:
        servers.append(NameServer(answer))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def test_txt_records_are_found_their_strings_joined(serve) -> None:
    server = serve(
        lambda q: _reply(
            q,
            [
                _rr(5, encode_name("elsewhere.example.com")),  # a CNAME first: skipped
                _rr(16, _txt(b"storefront-verify=", b"abc123")),
                _rr(16, _txt("v=spf1 -all 中".encode())),
            ],
        )
    )

    found = txt_records(NAME, server=server.address, timeout=2)

    assert found == ["storefront-verify=abc123", "v=spf1 -all 中"]
    question = server.queries[0][12:]
    assert question == encode_name(NAME) + struct.pack("!HH", 16, 1)


def test_a_name_that_does_not_exist_has_no_records(serve) -> None:
    server = serve(lambda q: _reply(q, [], code=3))

    assert txt_records(NAME, server=server.address, timeout=2) == []


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (lambda q: _reply(q, [], code=2), "DNS error code 2"),
        (lambda q: _reply(q, [], flags=0x8380), "truncated"),
        (lambda q: b"\x00\x00" + _reply(q, [])[2:], "not the answer"),
        (lambda q: _reply(q, [_rr(16, _txt(b"ok"))])[:-4], "malformed"),
        (lambda q: None, "timed out"),
    ],
    ids=["server-failure", "truncated", "other-id", "cut-short", "silent"],
)
def test_a_failed_look_up_is_an_os_error(serve, answer: Answer, message: str) -> None:
    server = serve(answer)

    with pytest.raises(OSError, match=message):
        txt_records(NAME, server=server.address, timeout=0.3)


def test_the_system_name_server_is_the_first_one_listed(tmp_path: Path) -> None:
    conf = tmp_path / "resolv.conf"
    conf.write_text("# local\nsearch example.com\nnameserver 10.0.0.53\nnameserver 8.8.8.8\n")
    empty = tmp_path / "empty.conf"
    empty.write_text("search example.com\n")

    assert system_nameserver(str(conf)) == "10.0.0.53"
    with pytest.raises(OSError, match="no nameserver"):
        system_nameserver(str(empty))


@pytest.mark.parametrize("name", ["a..b", "x" * 64 + ".example", "bücher.example"])
def test_a_name_dns_cannot_carry_is_refused(name: str) -> None:
    with pytest.raises(OSError, match="not a DNS name"):
        encode_name(name)


def test_an_answer_without_records_has_none() -> None:
    query = struct.pack("!HHHHHH", 7, 0x0100, 1, 0, 0, 0) + encode_name(NAME) + b"\x00\x10\x00\x01"

    assert parse_txt_answer(_reply(query, []), 7) == []
