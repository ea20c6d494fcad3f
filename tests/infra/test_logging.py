import io
import json
import logging

import pytest

from chalicelib.infra.logging import logger
from chalicelib.infra.masking import mask


@pytest.fixture
def log_stream():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    previous = logger.log_level
    logger.setLevel(logging.INFO)
    yield stream
    logger.removeHandler(handler)
    logger.setLevel(previous)


def test_log_lines_are_json_and_mask_personal_data(log_stream):
    logger.info(
        "signed in",
        extra={
            "email": "jane.doe@example.com",
            "password": "correct horse battery",
            "account_number": "12345678901234",
            "refresh_token": "abc123",
        },
    )
    line = json.loads(log_stream.getvalue().strip().splitlines()[-1])

    assert line["message"] == "signed in"
    assert line["email"] == "j***@example.com"
    assert line["account_number"] == "****1234"
    assert "correct horse" not in json.dumps(line) and "abc123" not in json.dumps(line)


def test_masking_adds_no_keys_and_leaves_the_input_alone():
    data = {"name": "x", "nested": {"phone": "+15550001111"}}
    masked = mask(data)

    assert masked == {"name": "x", "nested": {"phone": "***-***-**11"}}
    assert data["nested"]["phone"] == "+15550001111"
