"""Issue 16 item 7: input that broke the server (500s) is a 400/413 in the contract's shape
and changes nothing; the OpenAPI document declares what validation enforces."""

import json

import pytest

from tests.factories import make_account


def _error(response, status):
    assert response.status_code == status, response.body
    body = json.loads(response.body)
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    return body["error"]


def _post(client, path, body, headers=None):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.http.post(path, body=raw, headers=headers or {"Content-Type": "application/json"})


# -- NUL and lone surrogates (PostgreSQL refuses U+0000; UTF-8 cannot carry U+D800) --------


@pytest.mark.parametrize("escape", ["\\u0000", "\\ud800", "\\udfff"])
def test_regression_issue16_nul_or_lone_surrogate_in_a_json_string_is_400(client, conn, make_user, escape):
    user = make_user()
    account = make_account(conn, user["id"])
    fields = f'"account_id": "{account}", "amount": "-1.00", "transaction_date": "2024-05-01"'
    raw = ("{" + fields + ', "description": "a' + escape + 'b"}').encode()
    err = _error(_post(client, "/transactions", raw, user["headers"]), 400)
    assert err["code"] == "validation_error"
    assert err["details"][0]["field"] == "description"
    assert conn.execute("SELECT count(*) AS n FROM transactions").fetchone()["n"] == 0


def test_regression_issue16_nul_in_a_json_key_is_400(client, make_user):
    user = make_user()
    err = _error(_post(client, "/families", b'{"name": "x", "a\\u0000": 1}', user["headers"]), 400)
    assert err["code"] == "validation_error"


def test_regression_issue16_nul_in_unauthenticated_login_is_400(client):
    err = _error(_post(client, "/auth/login", b'{"email": "a\\u0000@example.com", "password": "x"}'), 400)
    assert err["code"] == "validation_error"


@pytest.mark.parametrize("path", ["/transactions?q=a%00b", "/transactions?merchant=%00", "/search/transactions?q=%00x"])
def test_regression_issue16_nul_in_a_query_parameter_is_400(client, make_user, path):
    user = make_user()
    err = _error(client.http.get(path, headers=user["headers"]), 400)
    assert err["code"] == "validation_error"


# -- nesting and size, checked before the JSON is parsed ----------------------------------


@pytest.mark.parametrize("path", ["/auth/login", "/auth/register", "/auth/refresh"])
def test_regression_issue16_json_nested_5000_deep_is_413_even_unauthenticated(client, path):
    deep = b"[" * 5000 + b"]" * 5000
    err = _error(_post(client, path, b'{"email": ' + deep + b"}"), 413)
    assert err["code"] == "payload_too_large"
    err = _error(_post(client, path, b"{" * 3000), 413)  # unbalanced too: never reaches the parser
    assert err["code"] == "payload_too_large"


def test_nesting_of_64_levels_is_parsed_and_65_is_refused(client):
    ok = _post(client, "/auth/login", b'{"email": ' + b"[" * 63 + b"]" * 63 + b"}")
    assert _error(ok, 400)["code"] == "validation_error"  # parsed, then the model refuses a list
    err = _error(_post(client, "/auth/login", b'{"email": ' + b"[" * 64 + b"]" * 64 + b"}"), 413)
    assert err["code"] == "payload_too_large"


def test_brackets_inside_strings_do_not_count_as_nesting(client):
    text = json.dumps({"email": "[" * 500 + "{" * 500, "password": "x"}).encode()
    assert _error(_post(client, "/auth/login", text), 400)["code"] == "validation_error"


def test_a_body_over_one_mib_is_413_before_parsing(client):
    err = _error(_post(client, "/auth/login", b'{"email": "' + b"a" * (1024 * 1024) + b'"}'), 413)
    assert err["code"] == "payload_too_large"


# -- dates near year 9999 ------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/analytics/spending?group_by=month&from=9999-01-01&to=9999-12-31",
        "/analytics/cashflow?interval=week&from=9999-12-01&to=9999-12-31",
        "/analytics/net-worth?interval=month&from=9999-01-01",
        "/transactions?from=0001-01-01&to=9999-12-31",
    ],
)
def test_regression_issue16_dates_near_year_9999_are_400_not_500(client, make_user, path):
    user = make_user()
    assert _error(client.http.get(path, headers=user["headers"]), 400)["code"] == "validation_error"


def test_regression_issue16_budget_status_and_export_near_year_9999(client, conn, make_user):
    user = make_user()
    err = _error(
        _post(client, "/exports", {"format": "csv", "from": "9999-12-01", "to": "9999-12-31"}, user["headers"]), 400
    )
    assert err["code"] == "validation_error"
    assert conn.execute("SELECT count(*) AS n FROM export_jobs").fetchone()["n"] == 0
    budget = _post(
        client,
        "/budgets",
        {"name": "b", "period_type": "yearly", "start_date": "9999-01-01", "total_amount": "10.00", "categories": []},
        user["headers"],
    )
    assert _error(budget, 400)["code"] == "validation_error"
    ok = _post(
        client,
        "/budgets",
        {"name": "b", "period_type": "monthly", "start_date": "2024-01-01", "total_amount": "10.00", "categories": []},
        user["headers"],
    )
    assert ok.status_code == 201, ok.body
    budget_id = json.loads(ok.body)["id"]
    status = client.http.get(f"/budgets/{budget_id}/status?date=9999-12-31", headers=user["headers"])
    assert _error(status, 400)["code"] == "validation_error"
    assert client.http.get(f"/budgets/{budget_id}/status?date=2100-12-31", headers=user["headers"]).status_code == 200


# -- the TOTP code ---------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["١٢٣٤٥٦", "１２３４５６", "12345\u00e9"])
def test_regression_issue16_non_ascii_totp_code_is_400(client, make_user, code):
    user = make_user()
    assert client.http.post("/auth/2fa/setup", headers=user["headers"]).status_code == 200
    err = _error(_post(client, "/auth/2fa/enable", {"code": code}, user["headers"]), 400)
    assert err["code"] == "validation_error"
    login = _post(client, "/auth/login", {"email": user["email"], "password": "x" * 12, "totp_code": code})
    assert _error(login, 400)["code"] == "validation_error"


# -- PATCH bodies ----------------------------------------------------------------------------


def test_regression_issue16_patch_without_a_body_or_with_an_empty_one_is_400(client, conn, make_user):
    user = make_user()
    account = make_account(conn, user["id"], name="Main")
    for raw in (b"", b"{}"):
        r = client.http.patch(f"/accounts/{account}", body=raw, headers=user["headers"])
        assert _error(r, 400)["code"] == "validation_error"
    r = client.http.patch("/users/me", body=b"", headers=user["headers"])
    assert _error(r, 400)["code"] == "validation_error"


def test_regression_issue16_null_on_a_field_that_cannot_be_cleared_is_400(client, conn, make_user):
    user = make_user()
    account = make_account(conn, user["id"], name="Main")
    r = client.http.patch(f"/accounts/{account}", body=json.dumps({"name": None}), headers=user["headers"])
    assert _error(r, 400)["details"][0]["field"] == "name"
    r = client.http.patch(f"/accounts/{account}", body=json.dumps({"institution": None}), headers=user["headers"])
    assert r.status_code == 200, r.body  # institution may be cleared


def test_a_post_whose_fields_are_all_optional_may_leave_the_body_out(client, make_user):
    user = make_user()
    r = client.http.post("/auth/2fa/setup", headers=user["headers"])
    assert r.status_code == 200


# -- the document says what validation enforces -------------------------------------------


@pytest.fixture
def document(client):
    return json.loads(client.http.get("/openapi.json").body)


def _props(document, name):
    return document["components"]["schemas"][name]["properties"]


def test_regression_issue16_document_declares_patch_fields_that_are_not_nullable(document):
    account = document["components"]["schemas"]["AccountPatch"]
    assert account["minProperties"] == 1
    assert "anyOf" not in account["properties"]["name"] and "default" not in account["properties"]["name"]
    assert {"type": "null"} in account["properties"]["institution"]["anyOf"]
    assert document["paths"]["/accounts/{account_id}"]["patch"]["requestBody"]["required"] is True


def test_regression_issue16_document_declares_email_cursor_money_dates_and_no_nul(document):
    import re

    email = _props(document, "LoginIn")["email"]["pattern"]
    assert re.match(email, "a.b@example.com") and not re.match(email, "") and not re.match(email, "a@b")
    params = {p["name"]: p["schema"] for p in document["paths"]["/transactions"]["get"]["parameters"]}
    cursor = params["cursor"]["anyOf"][0]
    assert cursor["pattern"] == "^[A-Za-z0-9_-]+$" and cursor["minLength"] == 1
    assert params["from"]["anyOf"][0]["pattern"] == "^(19[0-9]{2}|20[0-9]{2}|2100)-"
    assert params["merchant"]["anyOf"][0]["pattern"] == "^[^\\u0000]*$"
    money = _props(document, "TransactionCreate")["amount"]["oneOf"]
    assert money[0]["allOf"][0]["pattern"] == "^-?[0-9]{1,13}(\\.[0-9]{1,2})?$" and money[1]["multipleOf"] == 0.01
    assert money[1]["not"] == {"const": 0}  # a transaction's amount is non-zero
    assert _props(document, "CodeIn")["code"]["pattern"] == "^[ -~]+$"


@pytest.mark.parametrize("amount", ["1e2", "+5", " 5", "5.000", "1_000", "00000000000001.00"])
def test_money_text_is_exactly_what_the_document_says(client, conn, make_user, amount):
    user = make_user()
    account = make_account(conn, user["id"])
    body = {"account_id": str(account), "amount": amount, "transaction_date": "2024-05-01", "description": "x"}
    assert _error(_post(client, "/transactions", body, user["headers"]), 400)["code"] == "validation_error"


def test_booleans_integers_and_dates_are_taken_only_as_the_document_types_them(client, conn, make_user):
    user = make_user()
    body = {"name": "Main", "type": "checking", "allow_negative": 0}
    assert _error(_post(client, "/accounts", body, user["headers"]), 400)["details"][0]["field"] == "allow_negative"
    body = {"name": "Food", "sort_order": False}
    assert _error(_post(client, "/categories", body, user["headers"]), 400)["details"][0]["field"] == "sort_order"
    r = client.http.get("/analytics/spending?to=0", headers=user["headers"])  # was read as 1970-01-01
    assert _error(r, 400)["details"][0]["field"] == "to"
    # in a query string "true" and "20" are how a boolean and an integer are written
    assert client.http.get("/accounts?include_inactive=true&limit=20", headers=user["headers"]).status_code == 200


def test_free_form_objects_refuse_nul_in_their_keys(client, conn, make_user):
    user = make_user()
    account = make_account(conn, user["id"])
    raw = (
        b'{"account_id": "%s", "amount": "-1.00", "transaction_date": "2024-05-01", "description": "x", '
        % str(account).encode()
        + b'"location": {"a\\u0000": 1}}'
    )
    err = _error(_post(client, "/transactions", raw, user["headers"]), 400)
    assert err["details"][0]["field"].startswith("location.")


def test_regression_issue16_a_sum_beyond_one_columns_range_is_answered_not_refused(client, conn, make_user):
    """Found by schemathesis: net worth over accounts at NUMERIC(15,2)'s largest balance came
    back as a 400 about the response's own fields."""
    user = make_user()
    for name in ("A", "B"):
        make_account(conn, user["id"], name=name, type="savings", opening_balance="9999999999999.99")
    r = client.http.get("/analytics/net-worth?interval=month", headers=user["headers"])
    assert r.status_code == 200, r.body
    assert json.loads(r.body)["items"][-1]["assets"] == "19999999999999.98"
