"""Issue 16, item 10: JWT signing keys shorter than 32 bytes must be refused at start
(an HS256 key shorter than the hash output makes forging tokens a brute-force question)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from chalicelib.infra.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_a_short_signing_key_is_refused():
    with pytest.raises(ValidationError, match="at least 32 bytes"):
        Settings(_env_file=None, jwt_signing_key="x" * 31)
    assert Settings(_env_file=None, jwt_signing_key="x" * 32).jwt_signing_key.get_secret_value() == "x" * 32


def test_the_length_is_counted_in_bytes():
    # 16 two-byte characters: 32 bytes, accepted; 15 of them (30 bytes) are not.
    assert Settings(_env_file=None, jwt_signing_key="é" * 16).jwt_signing_key is not None
    with pytest.raises(ValidationError):
        Settings(_env_file=None, jwt_signing_key="é" * 15)


def test_the_app_does_not_start_with_a_short_key():
    env = {**os.environ, "JWT_SIGNING_KEY": "too-short-a-key"}
    refused = subprocess.run([sys.executable, "-c", "import app"], cwd=ROOT, env=env, capture_output=True, text=True)

    assert refused.returncode != 0 and "JWT_SIGNING_KEY" in refused.stderr
