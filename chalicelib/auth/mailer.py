"""Email delivery behind one small interface: Amazon SES in AWS, the log locally.

Chosen by the `EMAIL_DELIVERY` setting (`log` by default, and only on the local stage). Messages are sent after the
transaction that created their token commits, so no link points at a token that was
rolled back; a delivery failure is logged and never undoes the request."""

from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol
from urllib.parse import parse_qs, urlsplit

from chalicelib.infra import db
from chalicelib.infra.logging import logger
from chalicelib.infra.settings import get_settings


@dataclass(frozen=True)
class EmailMessage:
    to: str
    subject: str
    text: str
    link: str


class EmailSender(Protocol):
    def send(self, message: EmailMessage) -> None: ...


class LogEmailSender:
    """Local development: who was written to and about what, instead of a mailbox. Never
    the link or its token: a token read from a log resets a password (issue 16); the token
    shows only masked, enough to tell two messages apart. Allowed on the local stage only
    (settings refuse `log` elsewhere)."""

    def send(self, message: EmailMessage) -> None:
        url = urlsplit(message.link)
        token = parse_qs(url.query).get("token", [""])[0]
        logger.info(
            "email (local delivery)",
            extra={
                "email": message.to,
                "subject": message.subject,
                "page": url.path,
                "token_masked": masked_token(token),
            },
        )


def masked_token(token: str) -> str:
    """The first four characters and the length: recognisable, worthless to anyone reading it."""
    return f"{token[:4]}…({len(token)} chars)" if token else ""


class SesEmailSender:
    def __init__(self, *, region: str, sender: str):
        import boto3  # kept off the cold start of functions that never send mail

        self._client = boto3.client("ses", region_name=region)
        self._sender = sender

    def send(self, message: EmailMessage) -> None:
        self._client.send_email(
            Source=self._sender,
            Destination={"ToAddresses": [message.to]},
            Message={
                "Subject": {"Data": message.subject, "Charset": "UTF-8"},
                "Body": {"Text": {"Data": message.text, "Charset": "UTF-8"}},
            },
        )


@lru_cache(maxsize=1)
def sender() -> EmailSender:
    settings = get_settings()
    if settings.email_delivery == "ses":
        return SesEmailSender(region=settings.ses_region, sender=settings.email_sender)
    return LogEmailSender()


def send_after_commit(message: EmailMessage) -> None:
    def deliver() -> None:
        try:
            sender().send(message)
        except Exception as exc:
            logger.error("email delivery failed", extra={"subject": message.subject, "error": type(exc).__name__})

    db.after_commit(deliver)


def link(path: str, token: str) -> str:
    return f"{get_settings().public_app_url.rstrip('/')}{path}?token={token}"
