"""Issue 16, item 3: password-reset and verification tokens were written to the log (mail
delivery defaults to "log"), and a token read from the log reset a password. The log
delivery now prints the address and a masked token only, and stages other than local
refuse to start without a real delivery setting."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from chalicelib.auth import mailer
from chalicelib.infra.settings import Settings
from tests.auth.conftest import PASSWORD, post

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def log_delivery(monkeypatch):
    """The default delivery (the log), with each message also kept so the test knows the real token."""
    sent = []
    real_send = mailer.LogEmailSender.send

    def keep_and_send(self, message):
        sent.append(message)
        real_send(self, message)

    monkeypatch.setattr(mailer.LogEmailSender, "send", keep_and_send)
    mailer.sender.cache_clear()
    yield sent
    mailer.sender.cache_clear()


def test_no_token_or_link_reaches_the_log_and_what_is_logged_resets_nothing(client, log_lines, log_delivery):
    email = "logged@example.com"
    assert post(client, "/auth/register", {"email": email, "password": PASSWORD}).status_code == 201
    assert post(client, "/auth/password-reset/request", {"email": email}).status_code == 202

    text = log_lines.getvalue()
    tokens = [m.link.split("token=", 1)[1] for m in log_delivery]
    assert len(tokens) == 2  # the verification link and the reset link
    for message, token in zip(log_delivery, tokens, strict=True):
        assert token not in text and message.link not in text
    deliveries = [json.loads(line) for line in text.splitlines() if "local delivery" in line]
    assert [d["page"] for d in deliveries] == ["/verify-email", "/reset-password"]
    assert all(d["email"] == "l***@example.com" for d in deliveries)

    # The best a log reader has is the masked token: it resets nothing.
    logged = deliveries[1]["token_masked"]
    r = post(client, "/auth/password-reset/confirm", {"token": logged, "new_password": "a brand new passphrase"})
    assert r.status_code == 400
    assert post(client, "/auth/login", {"email": email, "password": PASSWORD}).status_code == 200


def test_log_delivery_is_refused_outside_the_local_stage():
    with pytest.raises(ValidationError, match="EMAIL_DELIVERY"):
        Settings(_env_file=None, stage="prod", email_delivery="log")
    with pytest.raises(ValidationError, match="EMAIL_DELIVERY"):
        Settings(_env_file=None, stage="dev")  # the default delivery is the log
    assert Settings(_env_file=None, stage="prod", email_delivery="ses").email_delivery == "ses"
    assert Settings(_env_file=None, stage="local").email_delivery == "log"


def test_the_app_does_not_start_on_a_deployed_stage_that_would_log_mail():
    env = {**os.environ, "STAGE": "prod", "EMAIL_DELIVERY": "log"}
    refused = subprocess.run([sys.executable, "-c", "import app"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert refused.returncode != 0 and "EMAIL_DELIVERY" in refused.stderr

    env["EMAIL_DELIVERY"] = "ses"
    started = subprocess.run([sys.executable, "-c", "import app"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert started.returncode == 0, started.stderr


def test_the_deployed_stages_are_configured_with_a_real_delivery():
    stages = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]
    for name in ("dev", "prod"):
        assert stages[name]["environment_variables"]["EMAIL_DELIVERY"] == "ses"
