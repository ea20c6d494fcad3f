import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from chalicelib.auth.tokens import issue_access_token
from chalicelib.infra.crypto import token_digest
from tests.auth.conftest import bearer, body_of, login, post


def _code(r):
    return body_of(r)["error"]["code"]


def _me(client, token):
    return client.http.get("/users/me", headers=bearer(token))


def test_refresh_rotates_and_the_new_pair_works(client, conn, register):
    user = register()
    r = post(client, "/auth/refresh", {"refresh_token": user["refresh_token"]})

    assert r.status_code == 200
    pair = body_of(r)
    assert set(pair) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert pair["refresh_token"] != user["refresh_token"]
    assert _me(client, pair["access_token"]).status_code == 200
    stored = conn.execute("SELECT refresh_token FROM user_sessions").fetchone()["refresh_token"]
    assert stored == token_digest(pair["refresh_token"])
    assert conn.execute("SELECT token_digest FROM spent_refresh_tokens").fetchone() == {
        "token_digest": token_digest(user["refresh_token"])
    }
    # and the next rotation works from the new token
    assert post(client, "/auth/refresh", {"refresh_token": pair["refresh_token"]}).status_code == 200


def test_a_spent_refresh_token_revokes_the_whole_chain_and_warns_the_owner(client, conn, register):
    user = register()
    first = body_of(post(client, "/auth/refresh", {"refresh_token": user["refresh_token"]}))
    second = body_of(post(client, "/auth/refresh", {"refresh_token": first["refresh_token"]}))
    other = body_of(login(client, user["user"]["email"]))  # another sign-in: not part of the chain

    replay = post(client, "/auth/refresh", {"refresh_token": user["refresh_token"]})

    assert replay.status_code == 401 and _code(replay) == "token_revoked"
    # every token descended from that sign-in is dead, at once
    assert _code(_me(client, second["access_token"])) == "token_revoked"
    assert _code(post(client, "/auth/refresh", {"refresh_token": second["refresh_token"]})) == "token_revoked"
    # the other sign-in is untouched
    assert _me(client, other["access_token"]).status_code == 200
    notes = conn.execute("SELECT type, data FROM notifications WHERE data->>'event' = 'token_reuse'").fetchall()
    assert [n["type"] for n in notes] == ["security"]
    audit = conn.execute("SELECT success FROM audit_logs WHERE action = 'auth.refresh_token_reuse'").fetchall()
    assert audit == [{"success": False}]
    reason = conn.execute("SELECT revoked_reason FROM user_sessions WHERE revoked_at IS NOT NULL").fetchall()
    assert reason == [{"revoked_reason": "token_reuse"}]


def test_unknown_and_expired_refresh_tokens(client, conn, register):
    r = post(client, "/auth/refresh", {"refresh_token": "never-issued"})
    assert r.status_code == 401 and _code(r) == "unauthorized"

    user = register()
    conn.execute(
        "UPDATE user_sessions SET created_at = now() - interval '31 days', expires_at = now() - interval '1 day'"
    )
    r = post(client, "/auth/refresh", {"refresh_token": user["refresh_token"]})
    assert r.status_code == 401 and _code(r) == "token_expired"
    assert post(client, "/auth/refresh", {}).status_code == 400


def test_logout_refuses_the_access_token_at_once(client, conn, register):
    user = register()
    assert _me(client, user["access_token"]).status_code == 200  # session state now cached

    r = post(client, "/auth/logout", headers=user["headers"])

    assert r.status_code == 204
    after = _me(client, user["access_token"])
    assert after.status_code == 401 and _code(after) == "token_revoked"
    refreshed = post(client, "/auth/refresh", {"refresh_token": user["refresh_token"]})
    assert _code(refreshed) == "token_revoked"
    assert conn.execute("SELECT count(*) AS n FROM audit_logs WHERE action = 'auth.logout'").fetchone()["n"] == 1


def test_logout_all_ends_every_session(client, register):
    user = register()
    other = body_of(login(client, user["user"]["email"]))
    assert _me(client, other["access_token"]).status_code == 200

    assert post(client, "/auth/logout-all", headers=user["headers"]).status_code == 204

    assert _me(client, user["access_token"]).status_code == 401
    assert _me(client, other["access_token"]).status_code == 401


def test_sessions_list_marks_the_current_one_and_one_can_be_revoked(client, register):
    user = register()
    other = body_of(login(client, user["user"]["email"], headers={"User-Agent": "Phone/1"}))

    listed = body_of(client.http.get("/auth/sessions", headers=user["headers"]))["items"]
    assert len(listed) == 2
    assert {s["current"] for s in listed} == {True, False}
    phone = next(s for s in listed if not s["current"])
    assert phone["user_agent"] == "Phone/1" and phone["ip_address"] == "127.0.0.1"
    assert set(phone) == {"id", "device_info", "ip_address", "user_agent", "created_at", "expires_at", "current"}

    r = client.http.delete(f"/auth/sessions/{phone['id']}", headers=user["headers"])

    assert r.status_code == 204
    assert _me(client, other["access_token"]).status_code == 401
    assert len(body_of(client.http.get("/auth/sessions", headers=user["headers"]))["items"]) == 1
    again = client.http.delete(f"/auth/sessions/{phone['id']}", headers=user["headers"])
    assert again.status_code == 404


def test_someone_elses_session_reads_as_not_found(client, register):
    alice, bob = register(), register()
    bob_session = body_of(client.http.get("/auth/sessions", headers=bob["headers"]))["items"][0]["id"]

    r = client.http.delete(f"/auth/sessions/{bob_session}", headers=alice["headers"])

    assert r.status_code == 404
    assert _me(client, bob["access_token"]).status_code == 200
    assert client.http.delete("/auth/sessions/not-a-uuid", headers=alice["headers"]).status_code == 404


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_bad_access_tokens_are_refused(client, register):
    user = register()
    header, _payload, signature = user["access_token"].split(".")
    claims = jwt.decode(user["access_token"], options={"verify_signature": False})
    other_user_claims = {**claims, "sub": "00000000-0000-0000-0000-000000000001"}

    tampered = ".".join([header, _b64(other_user_claims), signature])
    alg_none = jwt.encode(claims, key="", algorithm="none")
    wrong_key = jwt.encode(claims, "another key" * 4, algorithm="HS256")
    expired = issue_access_token(
        user_id=claims["sub"], session_id=claims["sid"], now=datetime.now(UTC) - timedelta(minutes=16)
    )

    for token, code in [
        (tampered, "unauthorized"),
        (alg_none, "unauthorized"),
        (wrong_key, "unauthorized"),
        ("garbage", "unauthorized"),
        ("", "unauthorized"),
        (expired, "token_expired"),
    ]:
        r = client.http.get("/users/me", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401, token
        assert _code(r) == code, token
    assert client.http.get("/users/me").status_code == 401


@pytest.mark.parametrize("path", ["/auth/logout", "/auth/logout-all", "/auth/2fa/setup", "/auth/2fa/enable"])
def test_authenticated_auth_routes_need_a_token(client, path):
    r = post(client, path, {"code": "123456"} if path.endswith("enable") else {})
    assert r.status_code == 401
