"""The SMS interface beside email: a message to a phone number, written by the dev outbox,
refused by SMTP with a clear error, carried by a platform's own sender class; a shop whose
sender cannot send SMS offers sign-in by email only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from consumer_support import app_on, ask_for_code
from shop_support import make_shop

from storefront_sdk.messages import (
    EMAIL,
    SMS,
    DevOutboxSender,
    Message,
    SmtpSender,
    SmtpServer,
    UnsupportedChannel,
    channels_of,
    load_sender,
    sms,
)


class SmsGateway:
    """A platform's SMS gateway (as an Aliyun or Tencent Cloud client would be), by dotted
    path: it carries SMS only and records what it sent."""

    channels = frozenset({SMS})
    sent: list[Message] = []

    def __init__(self, config: Any) -> None:
        self.config = config

    def send(self, message: Message) -> None:
        SmsGateway.sent.append(message)


def test_the_dev_outbox_writes_an_sms_as_a_text_file_naming_the_phone(tmp_path: Path):
    sender = DevOutboxSender(tmp_path / "outbox", "shop@example.com")

    sender.send(sms("+8613800138000", "Your code is 123456."))

    [written] = (tmp_path / "outbox").iterdir()
    assert written.suffix == ".sms"
    assert written.read_text(encoding="utf-8") == (
        "To: +8613800138000\nChannel: sms\n\nYour code is 123456.\n"
    )


def test_smtp_refuses_an_sms_with_a_clear_error():
    sender = SmtpSender(SmtpServer.from_url("smtp://127.0.0.1:9?starttls=no"), "a@example.com")

    with pytest.raises(UnsupportedChannel, match="'smtp' sends email only"):
        sender.send(sms("+8613800138000", "Your code is 123456."))
    assert channels_of(sender) == frozenset({EMAIL})


def test_a_senders_channels_are_what_it_says_else_both():
    gateway = load_sender({"STOREFRONT_MESSAGE_SENDER": "test_sms:SmsGateway"}, "/nowhere")
    outbox = load_sender({}, "/nowhere")

    assert channels_of(gateway) == frozenset({SMS})
    assert channels_of(outbox) == frozenset({EMAIL, SMS})
    assert channels_of(object()) == frozenset({EMAIL, SMS})


def test_a_shop_with_an_smtp_sender_signs_in_by_email_only(db_url: str, tmp_path: Path):
    config = {
        "STOREFRONT_MESSAGE_SENDER": "smtp",
        "STOREFRONT_SMTP_URL": "smtp://127.0.0.1:9?starttls=no",
    }
    with app_on(db_url, tmp_path / "instance", **config) as app:
        shop = make_shop(app)
        client = app.test_client()

        page = client.get(f"/s/{shop.slug}/account/login").get_data(as_text=True)
        response = ask_for_code(client, shop.slug, "+8613800138000")

    assert "Your email address" in page
    assert "mobile number" not in page
    assert response.status_code == 422
    assert "This shop cannot send text messages: use an email address." in response.get_data(
        as_text=True
    )


def test_a_platforms_sms_gateway_class_carries_the_sign_in_code(db_url: str, tmp_path: Path):
    SmsGateway.sent.clear()
    with app_on(
        db_url, tmp_path / "instance", STOREFRONT_MESSAGE_SENDER="test_sms:SmsGateway"
    ) as app:
        shop = make_shop(app)

        response = ask_for_code(app.test_client(), shop.slug, "+86 138 0013 8000")

    assert response.status_code == 303
    [sent] = SmsGateway.sent
    assert (sent.channel, sent.to) == (SMS, "+8613800138000")
    assert "Your sign-in code for ann is " in sent.text


def test_a_sender_that_fails_is_answered_with_a_message(db_url: str, tmp_path: Path):
    config = {
        "STOREFRONT_MESSAGE_SENDER": "smtp",
        "STOREFRONT_SMTP_URL": "smtp://127.0.0.1:9?starttls=no",  # nothing listens there
    }
    with app_on(db_url, tmp_path / "instance", **config) as app:
        shop = make_shop(app)

        response = ask_for_code(app.test_client(), shop.slug, "ada@example.com")

    assert response.status_code == 503
    assert "The code could not be sent." in response.get_data(as_text=True)
