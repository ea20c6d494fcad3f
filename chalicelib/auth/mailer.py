"""Email delivery behind one small interface: Amazon SES in AWS, the log locally.

Chosen by the `EMAIL_DELIVERY` setting (`log` by default). Messages are sent after the
transaction that created their token commits, so no link points at a token that was
rolled back; a delivery failure is logged and never undoes the request."""

from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

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
    """Local development: the message and its link go to the log instead of a mailbox."""

    def send(self, message: EmailMessage) -> None:
        logger.info(
            "email (local delivery)", extra={"email": message.to, "subject": message.subject, "link": message.link}
        )


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
