"""How a mail leaves: SMTP through Flask-Mail (one connection per batch, with a timeout), or,
in development, a folder that keeps every message as an .eml file."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from contextlib import contextmanager
from email.utils import formataddr, make_msgid
from pathlib import Path
from typing import Protocol

from flask import Flask
from flask_mail import Connection, Mail, Message

from portal.clock import now
from portal.notifications.models import OutboxMessage

mail = Mail()

# SMTP answers that will not change on a retry: the address is refused for good.
PERMANENT = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused,
             smtplib.SMTPDataError, smtplib.SMTPNotSupportedError)


class Sender(Protocol):
    def send(self, message: OutboxMessage) -> None: ...


def init_app(app: Flask) -> None:
    app.config.setdefault("MAIL_SUPPRESS_SEND", False)  # tests deliver to a real SMTP server
    mail.init_app(app)


def build(app: Flask, message: OutboxMessage, host: str) -> Message:
    built = Message(
        subject=message.subject,
        recipients=[address(message.recipient_name, message.recipient)],
        body=message.text_body,
        html=message.html_body,
        sender=address(message.sender_name, app.config["MAIL_DEFAULT_SENDER"]),
        reply_to=message.reply_to,
        extra_headers={"Auto-Submitted": "auto-generated"},
    )
    built.msgId = make_msgid(f"outbox-{message.id}", domain=host)
    return built


class _TimedConnection(Connection):
    """Flask-Mail sets no timeout on SMTP: a hung server would hang the worker."""

    timeout: float = 30

    def configure_host(self) -> smtplib.SMTP | smtplib.SMTP_SSL:
        cls = smtplib.SMTP_SSL if self.mail.use_ssl else smtplib.SMTP
        host = cls(self.mail.server, self.mail.port, timeout=self.timeout)
        if self.mail.use_tls:
            host.starttls()
        if self.mail.username and self.mail.password:
            host.login(self.mail.username, self.mail.password)
        return host

    def __exit__(self, *_exc: object) -> None:
        if self.host is None:
            return
        try:
            self.host.quit()
        except (smtplib.SMTPException, OSError):
            self.host.close()  # the server already went away; what was sent is sent


class SMTPSender:
    def __init__(self, app: Flask, connection: Connection) -> None:
        self.app, self.connection = app, connection
        self.host = app.config["MAIL_DEFAULT_SENDER"].rpartition("@")[2] or "localhost"

    def send(self, message: OutboxMessage) -> None:
        self.connection.send(build(self.app, message, self.host))


class FileSender:
    """Development: every message as an .eml file, listed by the /dev/mail page."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.folder = mail_folder(app)
        self.folder.mkdir(parents=True, exist_ok=True)

    def send(self, message: OutboxMessage) -> None:
        built = build(self.app, message, "localhost")
        name = f"p{message.practice_id}-{now():%Y%m%dT%H%M%S}-{message.id:08d}.eml"
        (self.folder / name).write_bytes(built.as_bytes())


def mail_folder(app: Flask) -> Path:
    return Path(app.instance_path) / "mail"


@contextmanager
def connect(app: Flask) -> Iterator[Sender]:
    """One connection for a batch of messages."""
    if app.config.get("MAIL_BACKEND", "smtp") == "file":
        yield FileSender(app)
        return
    _TimedConnection.timeout = app.config["MAIL_TIMEOUT"]
    settings = mail.init_mail(app.config, app.debug, testing=False)  # as configured now
    with _TimedConnection(settings) as connection:
        yield SMTPSender(app, connection)


def address(name: str | None, email: str) -> str:
    return formataddr((name, email)) if name else email
