"""Structured JSON logging: one Powertools Logger for the process, masked output."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter


class MaskingFormatter(LambdaPowertoolsFormatter):
    def serialize(self, log: dict) -> str:
        from chalicelib.infra.masking import mask

        try:
            masked = mask(log)
        except Exception as exc:
            # Never drop the line (a lost security record is worse than a short one) and never
            # write it unmasked: keep only the fields that carry no personal data.
            masked = {k: log.get(k) for k in ("level", "location", "message", "timestamp", "service")}
            masked["masking_error"] = type(exc).__name__
        return super().serialize(masked)


def _level() -> str:
    from chalicelib.infra.settings import get_settings

    try:
        return get_settings().log_level
    except Exception:
        return "INFO"


logger = Logger(service="fiscaflow", level=_level(), logger_formatter=MaskingFormatter())


_configured = False


def configure() -> None:
    """The process's optional log handlers, once, from the first request or event it
    handles: shipping to the logs index runs a thread, which no import may start."""
    global _configured
    if _configured:
        return
    _configured = True
    # Imported here, not at module level: the shipper lives beside the search domain's client.
    from chalicelib.infra import log_shipping

    log_shipping.install_if_configured()
