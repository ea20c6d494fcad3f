"""Every API route as (method, path, routes module, view name), checked in, so that
`app.py` registers the whole API without importing a routes module: each one's models
and services load on the first call of one of its routes (api/lazy_routes.py).

Generated from what the routes modules declare; after adding or changing a route run
    .venv/bin/python -m chalicelib.api.route_table --write
(tests/infra/test_route_table.py fails while this file is out of date). The modules are
listed by hand, in the order app.py used to register their blueprints."""

import sys
from pathlib import Path

ROUTE_MODULES = (
    "chalicelib.system.routes",
    "chalicelib.auth.routes",
    "chalicelib.users.routes",
    "chalicelib.erasure.routes",
    "chalicelib.families.routes",
    "chalicelib.ledger.accounts.routes",
    "chalicelib.ledger.categories.routes",
    "chalicelib.ledger.transactions.routes",
    "chalicelib.exports.routes",
    "chalicelib.budgets.routes",
    "chalicelib.goals.routes",
    "chalicelib.notifications.routes",
    "chalicelib.insights.routes",
    "chalicelib.dashboard.routes",
    "chalicelib.search.routes",
    "chalicelib.analytics.routes",
    "chalicelib.imports.drop_routes",
    "chalicelib.imports.routes",
    "chalicelib.categorization.routes",
    "chalicelib.bank_sync.routes",
)

# fmt: off
ROUTE_TABLE: tuple[tuple[str, str, str, str], ...] = (
    ("GET", "/health", "chalicelib.system.routes", "health"),
    ("GET", "/openapi.json", "chalicelib.system.routes", "openapi_document"),
    ("POST", "/auth/register", "chalicelib.auth.routes", "register"),
    ("POST", "/auth/login", "chalicelib.auth.routes", "login"),
    ("POST", "/auth/refresh", "chalicelib.auth.routes", "refresh"),
    ("POST", "/auth/logout", "chalicelib.auth.routes", "logout"),
    ("POST", "/auth/logout-all", "chalicelib.auth.routes", "logout_all"),
    ("GET", "/auth/sessions", "chalicelib.auth.routes", "list_sessions"),
    ("DELETE", "/auth/sessions/{session_id}", "chalicelib.auth.routes", "delete_session"),
    ("POST", "/auth/2fa/setup", "chalicelib.auth.routes", "two_factor_setup"),
    ("POST", "/auth/2fa/enable", "chalicelib.auth.routes", "two_factor_enable"),
    ("POST", "/auth/2fa/disable", "chalicelib.auth.routes", "two_factor_disable"),
    ("POST", "/auth/verify-email", "chalicelib.auth.routes", "verify_email"),
    ("POST", "/auth/password-reset/request", "chalicelib.auth.routes", "password_reset_request"),
    ("POST", "/auth/password-reset/confirm", "chalicelib.auth.routes", "password_reset_confirm"),
    ("GET", "/users/me", "chalicelib.users.routes", "get_me"),
    ("PATCH", "/users/me", "chalicelib.users.routes", "update_me"),
    ("POST", "/users/me/password", "chalicelib.users.routes", "change_password"),
    ("DELETE", "/users/me", "chalicelib.erasure.routes", "erase_me"),
    ("POST", "/families", "chalicelib.families.routes", "create_family"),
    ("GET", "/families", "chalicelib.families.routes", "list_families"),
    ("GET", "/families/{family_id}", "chalicelib.families.routes", "get_family"),
    ("PATCH", "/families/{family_id}", "chalicelib.families.routes", "update_family"),
    ("DELETE", "/families/{family_id}", "chalicelib.families.routes", "delete_family"),
    ("GET", "/families/{family_id}/members", "chalicelib.families.routes", "list_members"),
    ("POST", "/families/{family_id}/members", "chalicelib.families.routes", "add_member"),
    ("PATCH", "/families/{family_id}/members/{user_id}", "chalicelib.families.routes", "update_member"),
    ("DELETE", "/families/{family_id}/members/{user_id}", "chalicelib.families.routes", "remove_member"),
    ("POST", "/accounts", "chalicelib.ledger.accounts.routes", "create_account"),
    ("GET", "/accounts", "chalicelib.ledger.accounts.routes", "list_accounts"),
    ("GET", "/accounts/{account_id}", "chalicelib.ledger.accounts.routes", "get_account"),
    ("PATCH", "/accounts/{account_id}", "chalicelib.ledger.accounts.routes", "update_account"),
    ("DELETE", "/accounts/{account_id}", "chalicelib.ledger.accounts.routes", "delete_account"),
    ("GET", "/categories", "chalicelib.ledger.categories.routes", "list_categories"),
    ("POST", "/categories", "chalicelib.ledger.categories.routes", "create_category"),
    ("GET", "/categories/{category_id}", "chalicelib.ledger.categories.routes", "get_category"),
    ("PATCH", "/categories/{category_id}", "chalicelib.ledger.categories.routes", "update_category"),
    ("DELETE", "/categories/{category_id}", "chalicelib.ledger.categories.routes", "delete_category"),
    ("POST", "/transactions", "chalicelib.ledger.transactions.routes", "create_transaction"),
    ("GET", "/transactions", "chalicelib.ledger.transactions.routes", "list_transactions"),
    ("GET", "/transactions/{transaction_id}", "chalicelib.ledger.transactions.routes", "get_transaction"),
    ("PATCH", "/transactions/{transaction_id}", "chalicelib.ledger.transactions.routes", "update_transaction"),
    ("DELETE", "/transactions/{transaction_id}", "chalicelib.ledger.transactions.routes", "delete_transaction"),
    ("POST", "/transactions/{transaction_id}/receipt", "chalicelib.ledger.transactions.routes", "upload_receipt"),
    ("GET", "/transactions/{transaction_id}/receipt", "chalicelib.ledger.transactions.routes", "download_receipt"),
    ("POST", "/exports", "chalicelib.exports.routes", "create_export"),
    ("GET", "/exports", "chalicelib.exports.routes", "list_exports"),
    ("GET", "/exports/{export_id}", "chalicelib.exports.routes", "get_export"),
    ("POST", "/budgets", "chalicelib.budgets.routes", "create_budget"),
    ("GET", "/budgets", "chalicelib.budgets.routes", "list_budgets"),
    ("GET", "/budgets/{budget_id}", "chalicelib.budgets.routes", "get_budget"),
    ("PATCH", "/budgets/{budget_id}", "chalicelib.budgets.routes", "update_budget"),
    ("DELETE", "/budgets/{budget_id}", "chalicelib.budgets.routes", "delete_budget"),
    ("GET", "/budgets/{budget_id}/status", "chalicelib.budgets.routes", "budget_status"),
    ("POST", "/goals", "chalicelib.goals.routes", "create_goal"),
    ("GET", "/goals", "chalicelib.goals.routes", "list_goals"),
    ("GET", "/goals/{goal_id}", "chalicelib.goals.routes", "get_goal"),
    ("PATCH", "/goals/{goal_id}", "chalicelib.goals.routes", "update_goal"),
    ("DELETE", "/goals/{goal_id}", "chalicelib.goals.routes", "delete_goal"),
    ("POST", "/goals/{goal_id}/contributions", "chalicelib.goals.routes", "contribute"),
    ("GET", "/notifications", "chalicelib.notifications.routes", "list_notifications"),
    ("GET", "/notifications/unread-count", "chalicelib.notifications.routes", "unread_count"),
    ("POST", "/notifications/{notification_id}/read", "chalicelib.notifications.routes", "mark_read"),
    ("POST", "/notifications/read-all", "chalicelib.notifications.routes", "mark_all_read"),
    ("GET", "/recurring", "chalicelib.insights.routes", "list_recurring"),
    ("GET", "/dashboard", "chalicelib.dashboard.routes", "dashboard"),
    ("GET", "/search/transactions", "chalicelib.search.routes", "search_transactions"),
    ("GET", "/search/categories", "chalicelib.search.routes", "search_categories"),
    ("GET", "/analytics/spending", "chalicelib.analytics.routes", "spending"),
    ("GET", "/analytics/cashflow", "chalicelib.analytics.routes", "cashflow"),
    ("GET", "/analytics/net-worth", "chalicelib.analytics.routes", "net_worth"),
    ("POST", "/imports/credentials", "chalicelib.imports.drop_routes", "issue_drop_credentials"),
    ("POST", "/imports", "chalicelib.imports.routes", "create_import"),
    ("POST", "/imports/{import_id}/confirm", "chalicelib.imports.routes", "confirm_import"),
    ("GET", "/imports", "chalicelib.imports.routes", "list_imports"),
    ("GET", "/imports/{import_id}", "chalicelib.imports.routes", "get_import"),
    ("GET", "/categorization-rules", "chalicelib.categorization.routes", "list_rules"),
    ("POST", "/categorization-rules", "chalicelib.categorization.routes", "create_rule"),
    ("PATCH", "/categorization-rules/{rule_id}", "chalicelib.categorization.routes", "update_rule"),
    ("DELETE", "/categorization-rules/{rule_id}", "chalicelib.categorization.routes", "delete_rule"),
    ("POST", "/bank-connections/link-token", "chalicelib.bank_sync.routes", "create_link_token"),
    ("POST", "/bank-connections", "chalicelib.bank_sync.routes", "create_connection"),
    ("GET", "/bank-connections", "chalicelib.bank_sync.routes", "list_connections"),
    ("GET", "/bank-connections/{connection_id}", "chalicelib.bank_sync.routes", "get_connection"),
    ("DELETE", "/bank-connections/{connection_id}", "chalicelib.bank_sync.routes", "delete_connection"),
    ("POST", "/bank-connections/{connection_id}/sync", "chalicelib.bank_sync.routes", "sync_connection"),
    ("POST", "/bank-connections/{connection_id}/update-link-token", "chalicelib.bank_sync.routes", "update_link_token"),
    ("POST", "/webhooks/plaid", "chalicelib.bank_sync.routes", "plaid_webhook"),
)
# fmt: on


def declared_specs() -> list:
    """Every route's RouteSpec as its module declares it, in table order (imports every
    routes module: for the OpenAPI document and this file's generation, never on a cold start)."""
    from chalicelib.api.routing import blueprint_of

    return [spec for module in ROUTE_MODULES for spec in blueprint_of(module).specs]


def declared_routes() -> list[tuple[str, str, str, str]]:
    """The table as the routes modules declare it today."""
    from chalicelib.api.routing import blueprint_of

    return [
        (spec.method, spec.path, module, spec.view_name)
        for module in ROUTE_MODULES
        for spec in blueprint_of(module).specs
    ]


def render(rows: list[tuple[str, str, str, str]]) -> str:
    """This file's text with `rows` as its table."""
    opening = "ROUTE_TABLE: tuple[tuple[str, str, str, str], ...] = (\n"
    closing = ")\n# fmt: on\n"
    head, rest = Path(__file__).read_text().split(opening, 1)
    tail = rest.split(closing, 1)[1]
    lines = "".join("    (" + ", ".join(f'"{part}"' for part in row) + "),\n" for row in rows)
    return f"{head}{opening}{lines}{closing}{tail}"


def main(argv: list[str]) -> int:
    current = Path(__file__).read_text()
    wanted = render(declared_routes())
    if argv[1:] == ["--write"]:
        if wanted != current:
            Path(__file__).write_text(wanted)
            print(f"route table: rewrote {Path(__file__).name}")
        return 0
    if argv[1:] == ["--check"]:
        if wanted != current:
            print("route table is out of date: run python -m chalicelib.api.route_table --write")
            return 1
        return 0
    print("usage: python -m chalicelib.api.route_table --write | --check", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
