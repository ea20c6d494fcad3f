"""Structured JSON logging: one Powertools Logger for the process, masked output."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter


class MaskingFormatter(LambdaPowertoolsFormatter):
    def serialize(self, log: dict) -> str:
        from chalicelib.infra.masking import mask

        return super().serialize(mask(log))


def _level() -> str:
    from chalicelib.infra.settings import get_settings

    try:
        return get_settings().log_level
    except Exception:
        return "INFO"


logger = Logger(service="fiscaflow", level=_level(), logger_formatter=MaskingFormatter())
