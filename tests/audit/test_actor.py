"""The acting user is a value (chalicelib/core/actor.py) built once per request by the
routing wrapper; services and the audit trail take it, and the S3 and scheduled paths
name themselves instead of passing "nobody"."""

import ast
import dataclasses
import json
import pathlib
import uuid

import pytest

from chalicelib.audit.service import record_audit
from chalicelib.core.actor import Actor
from chalicelib.infra import db

ROOT = pathlib.Path(__file__).resolve().parents[2] / "chalicelib"


def _audit(conn, action):
    return conn.execute(
        "SELECT user_id, session_id, host(ip_address) AS ip, user_agent FROM audit_logs WHERE action = %s", (action,)
    ).fetchone()


def test_a_request_acts_as_its_session_address_and_user_agent(client, conn, make_user):
    user = make_user()
    headers = {**user["headers"], "User-Agent": "ActorTest/1.0"}
    body = {"name": "Trip", "goal_type": "vacation", "target_amount": "500.00"}
    r = client.http.post("/goals", body=json.dumps(body), headers=headers)
    assert r.status_code == 201, r.body
    row = _audit(conn, "goal.create")
    assert (row["user_id"], row["session_id"]) == (user["id"], user["session_id"])
    assert (row["ip"], row["user_agent"]) == ("127.0.0.1", "ActorTest/1.0")


def test_a_system_actor_records_whom_it_acted_for_and_no_session(make_user, conn, services):
    user = make_user()
    with db.transaction() as tx:
        record_audit(
            tx, actor=Actor.system("schedule:test"), action="test.system", resource_type="user", user_id=user["id"]
        )
    row = _audit(conn, "test.system")
    assert (row["user_id"], row["session_id"], row["ip"], row["user_agent"]) == (user["id"], None, None, None)


def test_actor_is_a_frozen_value():
    user_id, session_id = uuid.uuid4(), uuid.uuid4()
    actor = Actor(ip_address="198.51.100.1").signed_in(user_id=user_id, session_id=session_id)
    assert (actor.user_id, actor.session_id, actor.ip_address) == (user_id, session_id, "198.51.100.1")
    assert Actor.system("s3-import").is_system and not actor.is_system
    with pytest.raises(dataclasses.FrozenInstanceError):
        actor.user_id = uuid.uuid4()


def _modules():
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        yield rel, ast.parse(path.read_text(), filename=str(path))


def test_no_service_takes_the_request_context_or_imports_the_api_layer():
    """Only the api layer and the routes modules know the HTTP request; the rest takes an Actor."""
    offenders = []
    for rel, tree in _modules():
        if rel.startswith(("api/", "system/")) or rel.endswith("routes.py") or rel.endswith("models.py"):
            continue
        for node in ast.walk(tree):
            module = (node.module or "") if isinstance(node, ast.ImportFrom) else ""
            known = rel in KNOWN_API_TYPE_USERS and module == "chalicelib.api.types"
            if module.startswith("chalicelib.api") and not known:
                offenders.append(f"{rel}: from {module} import …")
    assert offenders == []


# Field types only (not the request): their move into core is issue 15 part C's / A's.
KNOWN_API_TYPE_USERS = {"ledger/fields.py", "notifications/paging.py"}


def test_every_audit_row_names_its_actor():
    """Regression (issue 15): the S3 and scheduled paths called record_audit(conn, None, …)."""
    missing = []
    for rel, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) in (
                "record_audit",
                "record_change",
            ):
                actor = [k.value for k in node.keywords if k.arg == "actor"]
                if not actor or (isinstance(actor[0], ast.Constant) and actor[0].value is None):
                    missing.append(f"{rel}:{node.lineno}")
    assert missing == []
