import json
from datetime import date

import pytest

from tests.factories import default_category, make_account


@pytest.fixture
def api(client):
    """JSON in, (status, body) out."""

    class Api:
        def call(self, method, path, user, body=None):
            kwargs = {"headers": user["headers"]}
            if body is not None:
                kwargs["body"] = json.dumps(body)
            r = getattr(client.http, method)(path, **kwargs)
            return r.status_code, (json.loads(r.body) if r.body else None)

        def get(self, path, user):
            return self.call("get", path, user)

        def post(self, path, user, body=None):
            return self.call("post", path, user, body if body is not None else {})

        def patch(self, path, user, body):
            return self.call("patch", path, user, body)

        def delete(self, path, user):
            return self.call("delete", path, user)

    return Api()


@pytest.fixture
def cats(conn):
    return {
        "food": default_category(conn, "Food & Dining"),
        "groceries": default_category(conn, "Groceries", "Food & Dining"),
        "restaurants": default_category(conn, "Restaurants", "Food & Dining"),
        "shopping": default_category(conn, "Shopping"),
        "income": default_category(conn, "Income"),
    }


@pytest.fixture
def owner(make_user, conn):
    user = make_user()
    user["account"] = make_account(conn, user["id"])
    return user


def budget_body(categories, **overrides):
    body = {
        "name": "Household",
        "period_type": "monthly",
        "start_date": date(2024, 1, 1).isoformat(),
        "total_amount": "1000.00",
        "categories": categories,
    }
    body.update(overrides)
    return body
