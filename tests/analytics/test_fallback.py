"""Analytics falls back from the cluster by the same rule as search (es_client.unavailable_errors):
a node that does not answer means SQL answers; any other error is not hidden behind SQL."""

import json
import socket
from datetime import date

from chalicelib.core import caching
from chalicelib.infra import es_client
from tests import factories


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _spending(client, user):
    r = client.http.get("/analytics/spending?group_by=month&from=2025-01-01&to=2025-12-31", headers=user["headers"])
    return r.status_code, json.loads(r.body)


def test_an_unreachable_node_means_the_sql_answer(client, conn, make_user, es_at, log_lines):
    user = make_user()
    account = factories.make_account(conn, user["id"])
    factories.make_transaction(conn, user["id"], account, "-12.34", day=date(2025, 3, 4))
    sql_status, sql_answer = _spending(client, user)
    es_at(f"http://127.0.0.1:{_closed_port()}")
    caching.invalidate_users([user["id"]])  # a fresh generation: the cached SQL answer is not reused
    status, answer = _spending(client, user)
    assert (status, sql_status) == (200, 200)
    assert answer == sql_answer
    assert "elasticsearch analytics failed, answering from SQL" in log_lines.getvalue()


def test_the_rule_is_the_clients_errors_and_no_programming_error():
    rule = es_client.unavailable_errors()
    assert rule and not any(issubclass(bug, rule) for bug in (KeyError, TypeError, ValueError, AttributeError))
