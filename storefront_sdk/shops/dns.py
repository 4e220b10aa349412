"""DNS TXT look-ups with the standard library only: the default
:data:`storefront_sdk.shops.hosts.TxtLookup` of the console's "Check now".

One query over UDP to the first ``nameserver`` of ``/etc/resolv.conf`` (RFC 1035), with a
time limit; no cache, no search domains, no TCP. A name that does not exist, or has no TXT
record, has none (``[]``); every other failure (no answer in time, a server failure, a
truncated or malformed answer) is an :class:`OSError`, which the console reports as "try again
later". A platform that wants more (DNSSEC, TCP, several servers) sets its own look-up in
``app.extensions["storefront"].host_txt_lookup``.
"""

from __future__ import annotations

import secrets
import socket
import struct

#: Where the system's name servers are listed.
RESOLV_CONF = "/etc/resolv.conf"
#: Seconds to wait for the answer.
TIMEOUT = 3.0
#: Resource record types and class used here.
TXT, IN = 16, 1
_NXDOMAIN = 3
_HEADER = struct.Struct("!HHHHHH")


def txt_records(
    name: str, *, server: tuple[str, int] | None = None, timeout: float = TIMEOUT
) -> list[str]:
    """The texts of ``name``'s TXT records (each record's strings joined), asked of
    ``server`` (default: the system's first name server, port 53)."""
    address = server or (system_nameserver(), 53)
    query_id = secrets.randbelow(0x10000)
    family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.sendto(_query(query_id, name), address)
        answer, _ = sock.recvfrom(65535)
    return parse_txt_answer(answer, query_id)


def system_nameserver(path: str = RESOLV_CONF) -> str:
    """The first name server of ``path``; :class:`OSError` if it names none."""
    with open(path, encoding="utf-8", errors="replace") as conf:
        for line in conf:
            parts = line.split()
            if len(parts) >= 2 and parts[0] == "nameserver":
                return parts[1].split("%", 1)[0]
    raise OSError(f"no nameserver in {path}")


def _query(query_id: int, name: str) -> bytes:
    header = _HEADER.pack(query_id, 0x0100, 1, 0, 0, 0)  # recursion desired, one question
    return header + encode_name(name) + struct.pack("!HH", TXT, IN)


def encode_name(name: str) -> bytes:
    """``name`` in DNS wire format; :class:`OSError` for a name DNS cannot carry."""
    try:
        labels = [label.encode("ascii") for label in name.rstrip(".").split(".")]
    except UnicodeEncodeError:
        labels = []
    if not labels or not all(0 < len(label) < 64 for label in labels) or len(name) > 253:
        raise OSError(f"not a DNS name: {name!r}")
    return b"".join(bytes([len(label)]) + label for label in labels) + b"\x00"


def parse_txt_answer(answer: bytes, query_id: int) -> list[str]:
    """The TXT texts of a DNS response to the query ``query_id``."""
    try:
        found_id, flags, questions, records, _, _ = _HEADER.unpack_from(answer)
        if found_id != query_id or not flags & 0x8000:
            raise OSError("not the answer to this query")
        if flags & 0x0200:
            raise OSError("truncated DNS answer")
        code = flags & 0x000F
        if code == _NXDOMAIN:
            return []
        if code:
            raise OSError(f"DNS error code {code}")
        offset = _HEADER.size
        for _ in range(questions):
            offset = _skip_name(answer, offset) + 4
        texts = []
        for _ in range(records):
            offset = _skip_name(answer, offset)
            kind, klass, _ttl, length = struct.unpack_from("!HHIH", answer, offset)
            offset += 10
            if kind == TXT and klass == IN:
                texts.append(_txt_text(answer[offset : offset + length]))
            offset += length
        return texts
    except (struct.error, IndexError) as error:
        raise OSError(f"malformed DNS answer: {error}") from error


def _skip_name(message: bytes, offset: int) -> int:
    """The offset just after the (possibly compressed) name at ``offset``."""
    while True:
        length = message[offset]
        if length >= 0xC0:  # a pointer ends the name
            return offset + 2
        if length == 0:
            return offset + 1
        offset += 1 + length


def _txt_text(rdata: bytes) -> str:
    """A TXT record's character strings, joined (RFC 7208's reading of long records)."""
    parts, offset = [], 0
    while offset < len(rdata):
        length = rdata[offset]
        parts.append(rdata[offset + 1 : offset + 1 + length])
        offset += 1 + length
    return b"".join(parts).decode("utf-8", "replace")
