"""Unit tests for storefront_sdk.webhooks: the Storefront-Signature header of supplier webhooks."""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storefront_sdk import webhooks
from storefront_sdk.webhooks import WebhookSignatureError, sign, verify

# A copy of the shared spec's vectors: CI checks out this repository only.
VECTORS_FILE = Path(__file__).parent.parent / "data" / "webhook-signature-vectors.json"
VECTORS: list[dict[str, Any]] = json.loads(VECTORS_FILE.read_text(encoding="utf-8"))["vectors"]

SECRET = "whsec_test_0123456789abcdef"
BODY = b'{"id":"evt_1","type":"order.created"}'
T = 1_795_435_200


@pytest.mark.parametrize("vector", VECTORS, ids=[str(v["timestamp"]) for v in VECTORS])
def test_vectors_verify(vector: dict[str, Any]) -> None:
    body = vector["body"].encode("utf-8")
    verify(body, vector["header"], vector["secret"], now=vector["timestamp"])


@pytest.mark.parametrize("vector", VECTORS, ids=[str(v["timestamp"]) for v in VECTORS])
def test_sign_reproduces_vectors(vector: dict[str, Any]) -> None:
    body = vector["body"].encode("utf-8")
    assert sign(body, vector["secret"], vector["timestamp"]) == vector["header"]


def test_module_uses_the_standard_library_only() -> None:
    # Suppliers use this module on its own: it must not reach into the rest of the package.
    tree = ast.parse(Path(webhooks.__file__).read_text(encoding="utf-8"))
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0, "relative import"
            imported.add(node.module or "")
    assert {name.split(".")[0] for name in imported} <= set(sys.stdlib_module_names) | {
        "__future__"
    }


def test_sign_defaults_to_now() -> None:
    header = sign(BODY, SECRET)
    verify(BODY, header, SECRET, tolerance=5)


def test_flipped_body_byte_fails() -> None:
    header = sign(BODY, SECRET, T)
    tampered = bytes([BODY[0] ^ 0x01]) + BODY[1:]
    with pytest.raises(WebhookSignatureError, match="no signature matches"):
        verify(tampered, header, SECRET, now=T)


def test_wrong_secret_fails() -> None:
    header = sign(BODY, SECRET, T)
    with pytest.raises(WebhookSignatureError, match="no signature matches"):
        verify(BODY, header, SECRET + "x", now=T)


@pytest.mark.parametrize("offset", [-301, 301])
def test_timestamp_outside_tolerance_fails(offset: int) -> None:
    header = sign(BODY, SECRET, T)
    with pytest.raises(WebhookSignatureError, match="outside the tolerance of 300 s"):
        verify(BODY, header, SECRET, now=T + offset)


@pytest.mark.parametrize("offset", [-300, -299, 0, 299, 300])
def test_timestamp_within_tolerance_passes(offset: int) -> None:
    verify(BODY, sign(BODY, SECRET, T), SECRET, now=T + offset)


def test_stale_message_says_how_old() -> None:
    with pytest.raises(WebhookSignatureError, match=r"signed 301 s ago"):
        verify(BODY, sign(BODY, SECRET, T), SECRET, now=T + 301)
    with pytest.raises(WebhookSignatureError, match=r"signed 301 s in the future"):
        verify(BODY, sign(BODY, SECRET, T), SECRET, now=T - 301)


def test_custom_tolerance() -> None:
    header = sign(BODY, SECRET, T)
    verify(BODY, header, SECRET, tolerance=0, now=T)
    with pytest.raises(WebhookSignatureError, match="tolerance of 0 s"):
        verify(BODY, header, SECRET, tolerance=0, now=T + 1)
    with pytest.raises(ValueError, match="tolerance must be >= 0") as caught:
        verify(BODY, header, SECRET, tolerance=-1, now=T)
    assert not isinstance(caught.value, WebhookSignatureError)  # a bug, not a bad request


def test_rotation_any_matching_v1_passes() -> None:
    old = sign(BODY, "whsec_old", T).split(",")[1]
    new = sign(BODY, SECRET, T).split(",")[1]
    verify(BODY, f"t={T},{old},{new}", SECRET, now=T)
    verify(BODY, f"t={T},{new},{old}", SECRET, now=T)
    with pytest.raises(WebhookSignatureError, match="no signature matches"):
        verify(BODY, f"t={T},{old},{old}", SECRET, now=T)


def test_tolerant_parsing() -> None:
    v1 = sign(BODY, SECRET, T).split(",")[1]
    for header in (
        f" t = {T} , {v1} ",
        f"v0=deadbeef,t={T},{v1}",
        f"t={T},{v1},v2=future,",
        f"{v1},t={T}",
    ):
        verify(BODY, header, SECRET, now=T)


def test_upper_case_hex_is_not_the_contract() -> None:
    t, v1 = sign(BODY, SECRET, T).split(",")
    with pytest.raises(WebhookSignatureError, match="no signature matches"):
        verify(BODY, f"{t},v1={v1.removeprefix('v1=').upper()}", SECRET, now=T)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "missing Storefront-Signature header"),
        ("", "missing Storefront-Signature header"),
        ("   ", "missing Storefront-Signature header"),
        (b"t=1,v1=00", "header must be text, not bytes"),
        (12345, "header must be text, not int"),
        ("t=abc,v1=00", "t= is not a Unix timestamp"),
        ("t=-5,v1=00", "t= is not a Unix timestamp"),
        ("t=1e9,v1=00", "t= is not a Unix timestamp"),
        ("t=١٢٣,v1=00", "t= is not a Unix timestamp"),  # Arabic-Indic digits
        ("t=" + "9" * 5000 + ",v1=00", "t= is not a Unix timestamp"),
        ("t=1,t=2,v1=00", "more than one t="),
        ("v1=" + "0" * 64, r"no timestamp \(t=\)"),
        (f"t={T}", "no v1 signature"),
        (f"t={T},v0=00", "no v1 signature"),
        ("garbage", "expected key=value pairs"),
        ("=1,t=2,v1=00", "expected key=value pairs"),
        (f"t={T},v1=ünïcödé", "no signature matches"),
        (f"t={T},v1=\udcff", "no signature matches"),
    ],
)
def test_bad_headers_raise_signature_error(header: Any, message: str) -> None:
    with pytest.raises(WebhookSignatureError, match=message):
        verify(BODY, header, SECRET, now=T)


@pytest.mark.parametrize("body", ["text body", bytearray(BODY), None, 42])
def test_non_bytes_body_raises_signature_error(body: Any) -> None:
    with pytest.raises(WebhookSignatureError, match="body must be the raw request body as bytes"):
        verify(body, sign(BODY, SECRET, T), SECRET, now=T)


@pytest.mark.parametrize("secret", ["", None])
def test_unset_secret_fails_closed(secret: Any) -> None:
    with pytest.raises(WebhookSignatureError, match="no webhook secret configured"):
        verify(BODY, sign(BODY, SECRET, T), secret, now=T)


def test_sign_rejects_empty_secret_and_negative_timestamp() -> None:
    with pytest.raises(ValueError, match="secret must not be empty"):
        sign(BODY, "", T)
    with pytest.raises(ValueError, match="timestamp must be >= 0"):
        sign(BODY, SECRET, -1)


secrets_st = st.text(min_size=1)
timestamps_st = st.integers(min_value=0, max_value=10**11)


@given(body=st.binary(), secret=secrets_st, timestamp=timestamps_st)
def test_property_round_trip(body: bytes, secret: str, timestamp: int) -> None:
    verify(body, sign(body, secret, timestamp), secret, now=timestamp)


@given(body=st.binary(min_size=1), secret=secrets_st, timestamp=timestamps_st, data=st.data())
def test_property_any_changed_byte_fails(
    body: bytes, secret: str, timestamp: int, data: st.DataObject
) -> None:
    header = sign(body, secret, timestamp)
    index = data.draw(st.integers(0, len(body) - 1), label="index")
    flip = data.draw(st.integers(1, 255), label="xor")
    tampered = body[:index] + bytes([body[index] ^ flip]) + body[index + 1 :]
    with pytest.raises(WebhookSignatureError, match="no signature matches"):
        verify(tampered, header, secret, now=timestamp)
