"""The message sender: how everything the library and its host send to people leaves
(password-reset links today; sign-in codes, coupons and order news of the growth layer).

``STOREFRONT_MESSAGE_SENDER`` picks it:

- ``dev`` (the default): each message is written as a file under the app's instance folder
  in ``outbox/`` (``<time>-<random>.eml``, readable by any mail reader and as plain text:
  its body is UTF-8 as written), naming its recipient in a ``To:`` line. Nothing leaves
  the machine.
- ``smtp``: sent through ``STOREFRONT_SMTP_URL`` (``smtp://user:password@host:587`` with
  STARTTLS, ``smtps://...`` for TLS from the start, ``smtp://host:25`` or
  ``smtp://host:2525?starttls=no`` in the clear, for a relay on the same machine), from
  ``STOREFRONT_MESSAGE_FROM``.
- a dotted path ``package.module:Class`` (or ``package.module.Class``): the class is built
  with the app's config and must have ``send(message)`` (an SMS gateway, a mail API).

A message goes by email or by SMS (its :attr:`Message.channel`; :func:`sms` makes one to a
phone number). Each sender says which channels it can carry in ``channels``
(:func:`channels_of`): the dev outbox carries both (an SMS is a ``.sms`` text file with a
``To:`` line and the text), SMTP only email (it refuses an SMS with
:class:`UnsupportedChannel`), a class whatever its ``channels`` say (both when it says
nothing). Pages that would send an SMS ask :func:`channels_of` first, so a platform without
an SMS gateway offers sign-in by email only.

Messages are sent after the change they announce is committed (a view sends after its
commit, receivers of :mod:`.signals` run after commit), never from inside a transaction.
"""

from __future__ import annotations

import importlib
import secrets
import smtplib
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from .errors import ConfigurationError

#: Seconds an SMTP server has to answer.
SMTP_TIMEOUT = 10
#: The channel of an email (to an address) and of an SMS (to a phone number).
EMAIL = "email"
SMS = "sms"
#: Every channel: what a sender carries when it does not say (``channels``).
ALL_CHANNELS = frozenset({EMAIL, SMS})


class UnsupportedChannel(ConfigurationError):
    """The sender cannot carry a message of this channel (an SMS through SMTP)."""

    code = "unsupported_channel"


@dataclass(frozen=True, slots=True)
class Message:
    """One message to one recipient: an email address (``channel`` ``"email"``, with a
    subject, the plain text and, optionally, an HTML version) or a phone number
    (``channel`` ``"sms"``: the text only, the subject is for the sender's records)."""

    to: str
    subject: str
    text: str
    html: str | None = None
    channel: str = EMAIL


def sms(phone: str, text: str, subject: str = "") -> Message:
    """An SMS of ``text`` to ``phone`` (in international form, ``+8613800138000``)."""
    return Message(phone, subject, text, channel=SMS)


class MessageSender(Protocol):
    """Anything that sends a :class:`Message` (raising if it could not). It may say which
    channels it carries in a ``channels`` attribute (see :func:`channels_of`)."""

    def send(self, message: Message) -> None:
        """Sends ``message``."""


def channels_of(sender: object) -> frozenset[str]:
    """The channels ``sender`` carries: its ``channels`` attribute, else every channel."""
    found = getattr(sender, "channels", None)
    return frozenset(found) if found is not None else ALL_CHANNELS


def as_email(message: Message, sender: str, *, readable: bool = False) -> EmailMessage:
    """``message`` as an email from ``sender``; ``readable``: its text left as it is
    (8-bit, not quoted-printable or base64), for a file a person reads."""
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.to
    email["Subject"] = message.subject
    if readable:
        email.set_content(message.text, cte="8bit")
    else:
        email.set_content(message.text)
    if message.html is not None:
        email.add_alternative(message.html, subtype="html")
    return email


def as_sms_file(message: Message) -> str:
    """``message`` (an SMS) as the dev outbox writes it: a ``To:`` line, a blank line, the
    text."""
    return f"To: {message.to}\nChannel: sms\n\n{message.text}\n"


class DevOutboxSender:
    """Writes each message as a file into ``folder`` (development, tests): an email as an
    ``.eml`` file, an SMS as a ``.sms`` text file (see :func:`as_sms_file`)."""

    channels = ALL_CHANNELS

    def __init__(self, folder: str | Path, sender: str) -> None:
        self.folder = Path(folder)
        self.sender = sender

    def send(self, message: Message) -> None:
        """Writes ``message`` to a new file of the outbox folder."""
        self.folder.mkdir(parents=True, exist_ok=True)
        stem = f"{time.time_ns()}-{secrets.token_hex(4)}"
        if message.channel == SMS:
            (self.folder / f"{stem}.sms").write_text(as_sms_file(message), encoding="utf-8")
        else:
            email = as_email(message, self.sender, readable=True)
            (self.folder / f"{stem}.eml").write_bytes(bytes(email))


@dataclass(frozen=True, slots=True)
class SmtpServer:
    """Where :class:`SmtpSender` connects, read from an ``smtp://`` or ``smtps://`` URL."""

    host: str
    port: int
    user: str | None
    password: str | None
    tls: bool
    starttls: bool

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        """The server of ``url``; :class:`ConfigurationError` if it is not an SMTP URL."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ConfigurationError(
                "STOREFRONT_SMTP_URL must be smtp://[user:password@]host[:port] or smtps://..."
            )
        tls = parts.scheme == "smtps"
        try:
            port = parts.port or (465 if tls else 587)
        except ValueError as exc:
            raise ConfigurationError(f"STOREFRONT_SMTP_URL has a bad port: {exc}") from exc
        user = unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password else None
        plain = port == 25 or parse_qs(parts.query).get("starttls") == ["no"]
        return cls(parts.hostname, port, user, password, tls, not tls and not plain)


class SmtpSender:
    """Sends each message as an email through an SMTP server (a new connection each).
    It carries no SMS."""

    channels = frozenset({EMAIL})

    def __init__(self, server: SmtpServer, sender: str) -> None:
        self.server = server
        self.sender = sender

    def send(self, message: Message) -> None:
        """Sends ``message``; raises :class:`smtplib.SMTPException` or :class:`OSError`,
        and :class:`UnsupportedChannel` for an SMS."""
        if message.channel != EMAIL:
            raise UnsupportedChannel(
                "STOREFRONT_MESSAGE_SENDER 'smtp' sends email only: an SMS needs a sender "
                "class (a dotted path) for the platform's SMS gateway"
            )
        server = self.server
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if server.tls:
            smtp = smtplib.SMTP_SSL(server.host, server.port, timeout=SMTP_TIMEOUT, context=context)
        else:
            smtp = smtplib.SMTP(server.host, server.port, timeout=SMTP_TIMEOUT)
        with smtp:
            if server.starttls:
                smtp.starttls(context=context)
            if server.user:
                smtp.login(server.user, server.password or "")
            smtp.send_message(as_email(message, self.sender))


def load_sender(config: Mapping[str, Any], instance_path: str) -> MessageSender:
    """The sender ``STOREFRONT_MESSAGE_SENDER`` names (see the module's docstring)."""
    wanted = str(config.get("STOREFRONT_MESSAGE_SENDER") or "dev")
    sender = str(config.get("STOREFRONT_MESSAGE_FROM") or "no-reply@localhost")
    if wanted == "dev":
        return DevOutboxSender(Path(instance_path) / "outbox", sender)
    if wanted == "smtp":
        url = config.get("STOREFRONT_SMTP_URL")
        if not url:
            raise ConfigurationError("STOREFRONT_MESSAGE_SENDER is 'smtp': set STOREFRONT_SMTP_URL")
        return SmtpSender(SmtpServer.from_url(str(url)), sender)
    return _custom_sender(wanted, config)


def _custom_sender(path: str, config: Mapping[str, Any]) -> MessageSender:
    module_name, _, class_name = path.replace(":", ".").rpartition(".")
    try:
        found = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ConfigurationError(
            f"STOREFRONT_MESSAGE_SENDER {path!r} is not 'dev', 'smtp' or an importable class"
        ) from exc
    instance = found(config)
    if not callable(getattr(instance, "send", None)):
        raise ConfigurationError(f"STOREFRONT_MESSAGE_SENDER {path!r} has no send(message)")
    sender: MessageSender = instance
    return sender
