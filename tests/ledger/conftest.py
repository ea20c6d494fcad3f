"""Fixtures of the ledger tests: a JSON API helper over chalice.test.Client and a family
with one user per role plus a stranger."""

import json
from dataclasses import dataclass
from typing import Any

import pytest

from tests.factories import make_family


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict


class Api:
    def __init__(self, client):
        self.client = client

    def call(self, method: str, path: str, user: dict, body: Any = None, headers: dict | None = None) -> Reply:
        kwargs: dict[str, Any] = {"headers": {**user["headers"], **(headers or {})}}
        if body is not None:
            kwargs["body"] = json.dumps(body)
        r = getattr(self.client.http, method.lower())(path, **kwargs)
        return Reply(r.status_code, json.loads(r.body) if r.body else None, dict(r.headers))

    def get(self, path, user, **kw):
        return self.call("GET", path, user, **kw)

    def post(self, path, user, body, **kw):
        return self.call("POST", path, user, body, **kw)

    def patch(self, path, user, body, **kw):
        return self.call("PATCH", path, user, body, **kw)

    def delete(self, path, user, **kw):
        return self.call("DELETE", path, user, **kw)


@pytest.fixture
def api(client):
    return Api(client)


@dataclass
class Household:
    family_id: Any
    owner: dict
    admin: dict
    member: dict
    viewer: dict
    stranger: dict


@pytest.fixture
def household(conn, make_user):
    owner, admin, member, viewer, stranger = (make_user() for _ in range(5))
    family_id = make_family(
        conn, owner["id"], members={admin["id"]: "admin", member["id"]: "member", viewer["id"]: "viewer"}
    )
    return Household(family_id, owner, admin, member, viewer, stranger)


def count(conn, table: str, where: str = "TRUE", params: tuple = ()) -> int:
    return conn.execute(f"SELECT count(*) AS n FROM {table} WHERE {where}", params).fetchone()["n"]


def balance(conn, account_id) -> str:
    return str(conn.execute("SELECT balance FROM accounts WHERE id = %s", (account_id,)).fetchone()["balance"])
