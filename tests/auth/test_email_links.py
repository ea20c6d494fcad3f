import json
import logging

import boto3
from moto import mock_aws

from chalicelib.auth import mailer
from tests.auth.conftest import PASSWORD, body_of, login, post

NEW_PASSWORD = "a brand new passphrase 42"


def _code(r):
    return body_of(r)["error"]["code"]


def test_registration_sends_a_verification_link_that_works_once(client, conn, register, outbox):
    user = register()
    assert [m.to for m in outbox.messages] == [user["user"]["email"]]
    token = outbox.token()
    assert token not in json.dumps([dict(r) for r in conn.execute("SELECT * FROM auth_email_tokens")], default=str)

    r = post(client, "/auth/verify-email", {"token": token})

    assert r.status_code == 200 and body_of(r) == {"email_verified": True}
    assert body_of(client.http.get("/users/me", headers=user["headers"]))["email_verified"] is True
    again = post(client, "/auth/verify-email", {"token": token})
    assert again.status_code == 400 and _code(again) == "validation_error"
    assert post(client, "/auth/verify-email", {"token": "made-up"}).status_code == 400


def test_an_expired_verification_link_is_refused(client, conn, register, outbox):
    register()
    conn.execute("UPDATE auth_email_tokens SET expires_at = now() - interval '1 minute'")

    r = post(client, "/auth/verify-email", {"token": outbox.token()})
    assert r.status_code == 400


def test_password_reset_request_is_202_for_known_and_unknown_addresses(client, conn, register, outbox):
    user = register()
    sent_before = len(outbox.messages)

    unknown = post(client, "/auth/password-reset/request", {"email": "nobody@example.com"})
    known = post(client, "/auth/password-reset/request", {"email": user["user"]["email"].upper()})

    assert unknown.status_code == known.status_code == 202
    assert body_of(unknown) == body_of(known)
    assert len(outbox.messages) == sent_before + 1 and outbox.messages[-1].to == user["user"]["email"]
    assert post(client, "/auth/password-reset/request", {"email": "bad"}).status_code == 400


def test_password_reset_sets_the_password_and_signs_everything_out(client, conn, register, outbox):
    user = register()
    other = body_of(login(client, user["user"]["email"]))
    post(client, "/auth/password-reset/request", {"email": user["user"]["email"]})
    token = outbox.token()

    short = post(client, "/auth/password-reset/confirm", {"token": token, "new_password": "short"})
    assert short.status_code == 400
    r = post(client, "/auth/password-reset/confirm", {"token": token, "new_password": NEW_PASSWORD})

    assert r.status_code == 204
    assert client.http.get("/users/me", headers=user["headers"]).status_code == 401
    assert client.http.get("/users/me", headers={"Authorization": f"Bearer {other['access_token']}"}).status_code == 401
    assert _code(login(client, user["user"]["email"], PASSWORD)) == "invalid_credentials"
    assert login(client, user["user"]["email"], NEW_PASSWORD).status_code == 200
    reused = post(client, "/auth/password-reset/confirm", {"token": token, "new_password": "yet another passphrase"})
    assert reused.status_code == 400
    actions = {a["action"] for a in conn.execute("SELECT action FROM audit_logs")}
    assert {"auth.password_reset_requested", "auth.password_reset"} <= actions
    events = [n["data"]["event"] for n in conn.execute("SELECT data FROM notifications")]
    assert "password_changed" in events


def test_a_newer_reset_link_voids_the_older_one(client, register, outbox):
    user = register()
    post(client, "/auth/password-reset/request", {"email": user["user"]["email"]})
    first = outbox.token()
    post(client, "/auth/password-reset/request", {"email": user["user"]["email"]})

    r = post(client, "/auth/password-reset/confirm", {"token": first, "new_password": NEW_PASSWORD})
    assert r.status_code == 400
    r = post(client, "/auth/password-reset/confirm", {"token": outbox.token(), "new_password": NEW_PASSWORD})
    assert r.status_code == 204


def test_local_delivery_logs_the_address_and_a_masked_token_only(client, register, log_lines, monkeypatch):
    mailer.sender.cache_clear()
    try:
        user = register()
    finally:
        mailer.sender.cache_clear()
    lines = [json.loads(line) for line in log_lines.getvalue().splitlines() if "local delivery" in line]
    assert len(lines) == 1
    assert "link" not in lines[0] and "token=" not in json.dumps(lines[0])
    assert lines[0]["page"] == "/verify-email" and lines[0]["token_masked"].endswith("(43 chars)")
    assert lines[0]["email"] != user["user"]["email"]  # masked
    assert lines[0]["level"] == logging.getLevelName(logging.INFO)


@mock_aws
def test_ses_delivery_sends_the_message():
    ses = boto3.client("ses", region_name="us-east-1")
    ses.verify_email_identity(EmailAddress="no-reply@fiscaflow.local")
    sender = mailer.SesEmailSender(region="us-east-1", sender="no-reply@fiscaflow.local")

    sender.send(mailer.EmailMessage(to="jane@example.com", subject="Hello", text="Link: x", link="x"))

    from moto.backends import get_backend

    sent = get_backend("ses")["123456789012"]["us-east-1"].sent_messages
    assert len(sent) == 1
    assert sent[0].destinations["ToAddresses"] == ["jane@example.com"] and sent[0].subject == "Hello"


def test_the_sender_is_chosen_by_setting(settings_env):
    mailer.sender.cache_clear()
    try:
        assert isinstance(mailer.sender(), mailer.LogEmailSender)
        settings_env(email_delivery="ses")
        mailer.sender.cache_clear()
        assert isinstance(mailer.sender(), mailer.SesEmailSender)
    finally:
        mailer.sender.cache_clear()
