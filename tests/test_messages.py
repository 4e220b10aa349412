"""The message sender: the dev outbox, SMTP (against a small real SMTP server on this
machine), a host's own class by dotted path, and clear start-up errors."""

from __future__ import annotations

import email
import socketserver
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import build_app

from storefront_sdk.errors import ConfigurationError
from storefront_sdk.messages import (
    DevOutboxSender,
    Message,
    SmtpServer,
    load_sender,
)

MESSAGE = Message("ada@example.com", "Hello", "Line one\nLine two\n")


class Recorder:
    """A host's own sender (e.g. an SMS gateway), loaded by dotted path."""

    sent: list[Message] = []

    def __init__(self, config: Any) -> None:
        self.config = config

    def send(self, message: Message) -> None:
        Recorder.sent.append(message)


class _SmtpConversation(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321) to take one message: what ``smtplib`` says to a server."""

    def handle(self) -> None:
        self._say("220 localhost ready")
        while line := self.rfile.readline().decode():
            verb = line.strip().split(" ")[0].upper()
            if verb in ("EHLO", "HELO"):
                self._say("250 localhost")
            elif verb in ("MAIL", "RCPT", "RSET", "NOOP"):
                self.server.envelope.append(line.strip())  # type: ignore[attr-defined]
                self._say("250 OK")
            elif verb == "DATA":
                self._say("354 go ahead")
                self.server.messages.append(self._data())  # type: ignore[attr-defined]
                self._say("250 queued")
            elif verb == "QUIT":
                self._say("221 bye")
                return
            else:
                self._say("502 not implemented")

    def _data(self) -> bytes:
        lines = []
        while (line := self.rfile.readline()) not in (b".\r\n", b""):
            lines.append(line)
        return b"".join(lines)

    def _say(self, text: str) -> None:
        self.wfile.write(text.encode() + b"\r\n")


@pytest.fixture
def smtp_server() -> Iterator[Any]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SmtpConversation)
    server.messages, server.envelope = [], []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def test_the_dev_sender_writes_each_message_as_a_file_naming_its_recipient(tmp_path: Path):
    sender = DevOutboxSender(tmp_path / "outbox", "shop@example.com")

    sender.send(MESSAGE)
    sender.send(Message("bob@example.com", "Again", "Text"))

    files = sorted((tmp_path / "outbox").iterdir())
    assert len(files) == 2
    first = email.message_from_bytes(files[0].read_bytes())
    assert (first["To"], first["From"], first["Subject"]) == (
        "ada@example.com",
        "shop@example.com",
        "Hello",
    )
    assert "To: ada@example.com" in files[0].read_text()
    assert first.get_payload() == "Line one\nLine two\n"


def test_the_app_writes_to_the_outbox_of_its_instance_folder(db_url: str):
    app = build_app(db_url)

    sender = app.extensions["storefront"].messages

    assert isinstance(sender, DevOutboxSender)
    assert sender.folder == Path(app.instance_path) / "outbox"
    app.extensions["storefront"].engine.dispose()


def test_the_smtp_sender_hands_the_message_to_the_server(smtp_server: Any):
    port = smtp_server.server_address[1]
    sender = load_sender(
        {
            "STOREFRONT_MESSAGE_SENDER": "smtp",
            "STOREFRONT_SMTP_URL": f"smtp://127.0.0.1:{port}?starttls=no",
            "STOREFRONT_MESSAGE_FROM": "shop@example.com",
        },
        "/nowhere",
    )

    sender.send(MESSAGE)

    [data] = smtp_server.messages
    received = email.message_from_bytes(data)
    assert (received["To"], received["Subject"]) == ("ada@example.com", "Hello")
    assert "rcpt TO:<ada@example.com>" in smtp_server.envelope


def test_smtp_urls_are_read_with_their_security():
    assert SmtpServer.from_url("smtp://u%40x:p%3Aw@mail.example.com") == SmtpServer(
        "mail.example.com", 587, "u@x", "p:w", tls=False, starttls=True
    )
    assert SmtpServer.from_url("smtps://mail.example.com").port == 465
    assert SmtpServer.from_url("smtp://localhost:25").starttls is False
    assert SmtpServer.from_url("smtp://localhost:2525?starttls=no").starttls is False


@pytest.mark.parametrize(
    ("config", "error"),
    [
        ({"STOREFRONT_MESSAGE_SENDER": "smtp"}, "set STOREFRONT_SMTP_URL"),
        (
            {"STOREFRONT_MESSAGE_SENDER": "smtp", "STOREFRONT_SMTP_URL": "http://mail"},
            "STOREFRONT_SMTP_URL must be smtp://",
        ),
        ({"STOREFRONT_MESSAGE_SENDER": "no.such.module:Sender"}, "is not 'dev', 'smtp'"),
    ],
)
def test_a_bad_sender_stops_the_app_at_start_up(db_url: str, config: dict, error: str):
    with pytest.raises(ConfigurationError, match=error):
        build_app(db_url, **config)


def test_a_host_sender_is_loaded_by_dotted_path(db_url: str):
    app = build_app(db_url, STOREFRONT_MESSAGE_SENDER="test_messages:Recorder")
    sender = app.extensions["storefront"].messages

    sender.send(MESSAGE)

    assert isinstance(sender, Recorder)
    assert Recorder.sent[-1] == MESSAGE
    assert sender.config["STOREFRONT_MESSAGE_SENDER"] == "test_messages:Recorder"
    app.extensions["storefront"].engine.dispose()
