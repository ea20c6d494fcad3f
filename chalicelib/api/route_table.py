"""Every API route as (method, path, routes module, view name, docstring), checked in, so that
`app.py` registers the whole API without importing a routes module: each one's models
and services load on the first call of one of its routes (api/lazy_routes.py).

Generated from what the routes modules declare; after adding or changing a route run
    .venv/bin/python -m chalicelib.api.route_table --write
(tests/infra/test_route_table.py fails while this file is out of date). The modules are
listed by hand, in the order app.py used to register their blueprints. The docstring is
there for `chalice package`/`deploy`, whose API Gateway definition takes each method's
summary and description from its view's docstring."""

# ruff: noqa: E501 (the table's rows are generated, one route a line)

import inspect
import json
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
ROUTE_TABLE: tuple[tuple[str, str, str, str, str], ...] = (
    ("GET", "/health", "chalicelib.system.routes", "health", "Dependency health: postgres, redis, elasticsearch, storage."),
    ("GET", "/openapi.json", "chalicelib.system.routes", "openapi_document", "This API's OpenAPI 3 document."),
    ("POST", "/auth/register", "chalicelib.auth.routes", "register", "Create an account and sign it in."),
    ("POST", "/auth/login", "chalicelib.auth.routes", "login", "Sign in with email, password and, when 2FA is on, a TOTP or recovery code."),
    ("POST", "/auth/refresh", "chalicelib.auth.routes", "refresh", "Spend a refresh token for a new access/refresh pair."),
    ("POST", "/auth/logout", "chalicelib.auth.routes", "logout", "Sign out the calling session."),
    ("POST", "/auth/logout-all", "chalicelib.auth.routes", "logout_all", "Sign out every session of the caller."),
    ("GET", "/auth/sessions", "chalicelib.auth.routes", "list_sessions", "The caller's live sessions; the calling one is marked current."),
    ("DELETE", "/auth/sessions/{session_id}", "chalicelib.auth.routes", "delete_session", "Sign out one of the caller's sessions."),
    ("POST", "/auth/2fa/setup", "chalicelib.auth.routes", "two_factor_setup", "Start two-factor authentication: a new TOTP secret."),
    ("POST", "/auth/2fa/enable", "chalicelib.auth.routes", "two_factor_enable", "Turn 2FA on with a code from the new secret; answers the recovery codes once."),
    ("POST", "/auth/2fa/disable", "chalicelib.auth.routes", "two_factor_disable", "Turn 2FA off with a TOTP or recovery code."),
    ("POST", "/auth/verify-email", "chalicelib.auth.routes", "verify_email", "Confirm the email address with the token from the verification link."),
    ("POST", "/auth/password-reset/request", "chalicelib.auth.routes", "password_reset_request", "Email a reset link if an account uses this address (always 202)."),
    ("POST", "/auth/password-reset/confirm", "chalicelib.auth.routes", "password_reset_confirm", "Set a new password with the token from the reset link; every session is signed out."),
    ("GET", "/users/me", "chalicelib.users.routes", "get_me", "The caller's profile."),
    ("PATCH", "/users/me", "chalicelib.users.routes", "update_me", "Change the caller's profile fields; null clears an optional one."),
    ("POST", "/users/me/password", "chalicelib.users.routes", "change_password", "Change the password; every other session is signed out."),
    ("DELETE", "/users/me", "chalicelib.erasure.routes", "erase_me", "Erase the caller's personal data; shared family data and the masked audit trail stay."),
    ("POST", "/families", "chalicelib.families.routes", "create_family", "Create a family; the caller becomes its owner."),
    ("GET", "/families", "chalicelib.families.routes", "list_families", "The caller's families."),
    ("GET", "/families/{family_id}", "chalicelib.families.routes", "get_family", "One of the caller's families."),
    ("PATCH", "/families/{family_id}", "chalicelib.families.routes", "update_family", "Rename or describe a family (owner or admin)."),
    ("DELETE", "/families/{family_id}", "chalicelib.families.routes", "delete_family", "Delete a family (owner; refused with 409 while it has accounts)."),
    ("GET", "/families/{family_id}/members", "chalicelib.families.routes", "list_members", "The members of a family."),
    ("POST", "/families/{family_id}/members", "chalicelib.families.routes", "add_member", "Add an existing user to the family (owner or admin)."),
    ("PATCH", "/families/{family_id}/members/{user_id}", "chalicelib.families.routes", "update_member", "Change a member's role; role \"owner\" hands ownership over (owner only)."),
    ("DELETE", "/families/{family_id}/members/{user_id}", "chalicelib.families.routes", "remove_member", "Remove a member (owner or admin) or leave the family."),
    ("POST", "/accounts", "chalicelib.ledger.accounts.routes", "create_account", "Open an account (personal, or in a family the caller manages)."),
    ("GET", "/accounts", "chalicelib.ledger.accounts.routes", "list_accounts", "Accounts the caller can see."),
    ("GET", "/accounts/{account_id}", "chalicelib.ledger.accounts.routes", "get_account", "One account."),
    ("PATCH", "/accounts/{account_id}", "chalicelib.ledger.accounts.routes", "update_account", "Change an account."),
    ("DELETE", "/accounts/{account_id}", "chalicelib.ledger.accounts.routes", "delete_account", "Delete an unused account, or deactivate one with transactions."),
    ("GET", "/categories", "chalicelib.ledger.categories.routes", "list_categories", "The default tree plus the caller's and their families' categories."),
    ("POST", "/categories", "chalicelib.ledger.categories.routes", "create_category", "Create a personal or family category."),
    ("GET", "/categories/{category_id}", "chalicelib.ledger.categories.routes", "get_category", "One category."),
    ("PATCH", "/categories/{category_id}", "chalicelib.ledger.categories.routes", "update_category", "Change a category (defaults are read-only: 403)."),
    ("DELETE", "/categories/{category_id}", "chalicelib.ledger.categories.routes", "delete_category", "Delete a category; its subcategories and transactions move to its parent."),
    ("POST", "/transactions", "chalicelib.ledger.transactions.routes", "create_transaction", "Book a transaction."),
    ("GET", "/transactions", "chalicelib.ledger.transactions.routes", "list_transactions", "Transactions the caller can see, newest first."),
    ("GET", "/transactions/{transaction_id}", "chalicelib.ledger.transactions.routes", "get_transaction", "One transaction."),
    ("PATCH", "/transactions/{transaction_id}", "chalicelib.ledger.transactions.routes", "update_transaction", "Change a transaction (fields, status, category, date or account)."),
    ("DELETE", "/transactions/{transaction_id}", "chalicelib.ledger.transactions.routes", "delete_transaction", "Delete a transaction."),
    ("POST", "/transactions/{transaction_id}/receipt", "chalicelib.ledger.transactions.routes", "upload_receipt", "A presigned URL to upload the transaction's receipt (jpeg, png or pdf)."),
    ("GET", "/transactions/{transaction_id}/receipt", "chalicelib.ledger.transactions.routes", "download_receipt", "A presigned URL to download the transaction's receipt."),
    ("POST", "/exports", "chalicelib.exports.routes", "create_export", "Ask for an export; the file is built in the background."),
    ("GET", "/exports", "chalicelib.exports.routes", "list_exports", "The caller's exports, newest first."),
    ("GET", "/exports/{export_id}", "chalicelib.exports.routes", "get_export", "One export: status, progress and, once completed, a download URL."),
    ("POST", "/budgets", "chalicelib.budgets.routes", "create_budget", "Create a budget with per-category allocations."),
    ("GET", "/budgets", "chalicelib.budgets.routes", "list_budgets", "The caller's and their families' budgets."),
    ("GET", "/budgets/{budget_id}", "chalicelib.budgets.routes", "get_budget", "One budget."),
    ("PATCH", "/budgets/{budget_id}", "chalicelib.budgets.routes", "update_budget", "Change a budget; `categories` replaces its allocations."),
    ("DELETE", "/budgets/{budget_id}", "chalicelib.budgets.routes", "delete_budget", "Delete a budget."),
    ("GET", "/budgets/{budget_id}/status", "chalicelib.budgets.routes", "budget_status", "Spent, remaining and state per category for the period containing `date`."),
    ("POST", "/goals", "chalicelib.goals.routes", "create_goal", "Create a savings goal."),
    ("GET", "/goals", "chalicelib.goals.routes", "list_goals", "The caller's and their families' goals."),
    ("GET", "/goals/{goal_id}", "chalicelib.goals.routes", "get_goal", "One goal."),
    ("PATCH", "/goals/{goal_id}", "chalicelib.goals.routes", "update_goal", "Change a goal."),
    ("DELETE", "/goals/{goal_id}", "chalicelib.goals.routes", "delete_goal", "Delete a goal."),
    ("POST", "/goals/{goal_id}/contributions", "chalicelib.goals.routes", "contribute", "Add to a goal's saved amount (negative: take from it); milestones notify once."),
    ("GET", "/notifications", "chalicelib.notifications.routes", "list_notifications", "The caller's notifications, newest first; filter by `unread` and `type`."),
    ("GET", "/notifications/unread-count", "chalicelib.notifications.routes", "unread_count", "How many notifications the caller has not read."),
    ("POST", "/notifications/{notification_id}/read", "chalicelib.notifications.routes", "mark_read", "Mark one notification read."),
    ("POST", "/notifications/read-all", "chalicelib.notifications.routes", "mark_all_read", "Mark every notification read."),
    ("GET", "/recurring", "chalicelib.insights.routes", "list_recurring", "Recurring payments found in the caller's transactions, next due first."),
    ("GET", "/dashboard", "chalicelib.dashboard.routes", "dashboard", "Spending today and this month, top categories, budget states, unread notifications."),
    ("GET", "/search/transactions", "chalicelib.search.routes", "search_transactions", "Search the transactions the caller may read, with facets and highlights."),
    ("GET", "/search/categories", "chalicelib.search.routes", "search_categories", "Search the default, own and family categories by name."),
    ("GET", "/analytics/spending", "chalicelib.analytics.routes", "spending", "Spending (outflows minus refunds) grouped by category, top category, merchant, month or account."),
    ("GET", "/analytics/cashflow", "chalicelib.analytics.routes", "cashflow", "Income, expenses and net per month or week, transfers excluded."),
    ("GET", "/analytics/net-worth", "chalicelib.analytics.routes", "net_worth", "Assets, liabilities and net worth at each month's end; the last point is today."),
    ("POST", "/imports/credentials", "chalicelib.imports.drop_routes", "issue_drop_credentials", "Short-lived storage credentials confined to imports/{user_id}/, for a sync tool that drops files itself."),
    ("POST", "/imports", "chalicelib.imports.routes", "create_import", "Ask for a presigned upload URL for a bank statement file (CSV, OFX/QFX, QIF)."),
    ("POST", "/imports/{import_id}/confirm", "chalicelib.imports.routes", "confirm_import", "Import a previewed or failed import's file, with a column mapping if given (saved for the account)."),
    ("GET", "/imports", "chalicelib.imports.routes", "list_imports", "The caller's statement imports, newest first."),
    ("GET", "/imports/{import_id}", "chalicelib.imports.routes", "get_import", "One statement import: status, counts and every bad line of a failed file."),
    ("GET", "/categorization-rules", "chalicelib.categorization.routes", "list_rules", "Categorization rules the caller can see (their own and their families')."),
    ("POST", "/categorization-rules", "chalicelib.categorization.routes", "create_rule", "Create a rule: description/merchant contains, equals, starts with or matches a regex -> category."),
    ("PATCH", "/categorization-rules/{rule_id}", "chalicelib.categorization.routes", "update_rule", "Change a categorization rule."),
    ("DELETE", "/categorization-rules/{rule_id}", "chalicelib.categorization.routes", "delete_rule", "Delete a categorization rule."),
    ("POST", "/bank-connections/link-token", "chalicelib.bank_sync.routes", "create_link_token", "A Plaid Link token to connect a bank."),
    ("POST", "/bank-connections", "chalicelib.bank_sync.routes", "create_connection", "Connect a bank with the public token Plaid Link returned; its accounts are linked."),
    ("GET", "/bank-connections", "chalicelib.bank_sync.routes", "list_connections", "The bank connections the caller can see."),
    ("GET", "/bank-connections/{connection_id}", "chalicelib.bank_sync.routes", "get_connection", "One bank connection: status, last sync, accounts."),
    ("DELETE", "/bank-connections/{connection_id}", "chalicelib.bank_sync.routes", "delete_connection", "Disconnect the bank; the accounts and their history stay."),
    ("POST", "/bank-connections/{connection_id}/sync", "chalicelib.bank_sync.routes", "sync_connection", "Sync the connection now, in the background."),
    ("POST", "/bank-connections/{connection_id}/update-link-token", "chalicelib.bank_sync.routes", "update_link_token", "A Link token in update mode, to repair a connection that needs its login again."),
    ("POST", "/webhooks/plaid", "chalicelib.bank_sync.routes", "plaid_webhook", "Plaid's webhooks, verified by their Plaid-Verification signature."),
)
# fmt: on


def declared_specs() -> list:
    """Every route's RouteSpec as its module declares it, in table order (imports every
    routes module: for the OpenAPI document and this file's generation, never on a cold start)."""
    from chalicelib.api.routing import blueprint_of

    return [spec for module in ROUTE_MODULES for spec in blueprint_of(module).specs]


def declared_routes() -> list[tuple[str, str, str, str, str]]:
    """The table as the routes modules declare it today."""
    from chalicelib.api.routing import blueprint_of

    rows = []
    for module in ROUTE_MODULES:
        blueprint = blueprint_of(module)
        for spec in blueprint.specs:
            doc = inspect.getdoc(blueprint.views[(spec.method, spec.path)]) or ""
            rows.append((spec.method, spec.path, module, spec.view_name, doc))
    return rows


def render(rows: list[tuple[str, str, str, str, str]]) -> str:
    """This file's text with `rows` as its table."""
    opening = "ROUTE_TABLE: tuple[tuple[str, str, str, str, str], ...] = (\n"
    closing = ")\n# fmt: on\n"
    head, rest = Path(__file__).read_text().split(opening, 1)
    tail = rest.split(closing, 1)[1]
    lines = "".join("    (" + ", ".join(json.dumps(part, ensure_ascii=False) for part in row) + "),\n" for row in rows)
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
