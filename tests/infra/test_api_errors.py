import json

import pytest
from chalice.test import Client

from tests.infra.demo_app import app as demo_app


@pytest.fixture
def demo(services):
    with Client(demo_app, stage_name="test") as c:
        yield c


def _error(response):
    body = json.loads(response.body)
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    return body["error"]


def test_no_token_is_401_in_the_contract_shape(demo):
    r = demo.http.post(
        "/demo/notes", body=json.dumps({"title": "a", "amount": "1.00"}), headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 401
    assert _error(r)["code"] == "unauthorized"


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ4In0."])
def test_garbage_and_alg_none_tokens_are_401(demo, token):
    r = demo.http.get("/demo/notes/00000000-0000-0000-0000-000000000000", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401
    assert _error(r)["code"] == "unauthorized"


def test_validation_errors_list_each_field(demo, make_user):
    user = make_user()
    r = demo.http.post(
        "/demo/notes", body=json.dumps({"title": "", "amount": "1.001", "extra": 1}), headers=user["headers"]
    )
    assert r.status_code == 400
    err = _error(r)
    assert err["code"] == "validation_error"
    fields = {d["field"]: d["message"] for d in err["details"]}
    assert set(fields) == {"title", "amount", "extra"}
    assert fields["amount"] == "must have at most two decimals"


@pytest.mark.parametrize("raw", ["{not json", "[1, 2]", '"text"'])
def test_malformed_or_non_object_json_is_400(demo, make_user, raw):
    r = demo.http.post("/demo/notes", body=raw, headers=make_user()["headers"])
    assert r.status_code == 400
    assert _error(r)["details"][0]["field"] == "body"


def test_body_over_one_mebibyte_is_413(demo, make_user):
    big = json.dumps({"title": "x" * (1024 * 1024 + 10), "amount": "1"})
    r = demo.http.post("/demo/notes", body=big, headers=make_user()["headers"])
    assert r.status_code == 413
    assert _error(r)["code"] == "payload_too_large"


def test_unknown_and_malformed_ids_are_404(demo, make_user):
    user = make_user()
    for note_id in ("00000000-0000-0000-0000-000000000000", "not-a-uuid"):
        r = demo.http.get(f"/demo/notes/{note_id}", headers=user["headers"])
        assert r.status_code == 404
        assert _error(r)["code"] == "not_found"


def test_another_users_resource_is_404(demo, make_user):
    alice, bob = make_user(), make_user()
    created = demo.http.post("/demo/notes", body=json.dumps({"title": "mine", "amount": 5}), headers=alice["headers"])
    note_id = json.loads(created.body)["id"]

    assert demo.http.get(f"/demo/notes/{note_id}", headers=alice["headers"]).status_code == 200
    assert demo.http.get(f"/demo/notes/{note_id}", headers=bob["headers"]).status_code == 404


def test_domain_conflict_is_409_with_details(demo, make_user):
    r = demo.http.post("/demo/conflict", headers=make_user()["headers"])
    assert r.status_code == 409
    assert _error(r)["details"] == [{"field": "email", "message": "taken"}]


def test_a_crash_is_500_without_internals(demo):
    r = demo.http.get("/demo/crash")
    assert r.status_code == 500
    err = _error(r)
    assert err["code"] == "internal_error"
    assert "hunter2" not in r.body.decode() and "RuntimeError" not in r.body.decode()


def test_money_is_a_two_decimal_string(demo, make_user):
    r = demo.http.post("/demo/notes", body=json.dumps({"title": "t", "amount": 42.1}), headers=make_user()["headers"])
    assert r.status_code == 201
    assert json.loads(r.body)["amount"] == "42.10"


def test_a_revoked_session_is_refused_at_once(demo, make_user, conn):
    user = make_user()
    url = "/demo/notes/00000000-0000-0000-0000-000000000000"
    assert demo.http.get(url, headers=user["headers"]).status_code == 404  # accepted, and now cached

    from chalicelib.auth.sessions import forget_sessions

    conn.execute("UPDATE user_sessions SET revoked_at = now() WHERE id = %s", (user["session_id"],))
    forget_sessions(user["session_id"])

    r = demo.http.get(url, headers=user["headers"])
    assert r.status_code == 401
    assert _error(r)["code"] == "token_revoked"


def test_the_client_address_ignores_x_forwarded_for_unless_a_proxy_is_trusted(monkeypatch):
    from chalicelib.api import routing
    from chalicelib.infra.settings import get_settings

    headers = {"x-forwarded-for": "6.6.6.6, 203.0.113.9"}
    identity = {"sourceIp": "198.51.100.7"}
    untrusted = get_settings().model_copy(update={"trust_forwarded_for": False})
    monkeypatch.setattr(routing, "get_settings", lambda: untrusted)
    assert routing._client_ip(headers, identity) == "198.51.100.7"

    trusted = get_settings().model_copy(update={"trust_forwarded_for": True})
    monkeypatch.setattr(routing, "get_settings", lambda: trusted)
    assert routing._client_ip(headers, identity) == "203.0.113.9"  # the hop our proxy added, not the client's claim
