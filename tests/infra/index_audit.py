"""The index audit of `transactions` and `transactions_archive` (issue 17, sql/1101).

AUDIT names every index of the two tables with the code that needs it. Each use is the
real code, not a paraphrase of its SQL: either `explain`, which returns the statement and
parameters the code's own builder makes (EXPLAIN (FORMAT JSON) runs on it), or `run`,
which calls a repo function that executes its statements itself; those run inside a
transaction that is rolled back, with auto_explain logging each statement's plan (JSON)
to the client. tests/infra/test_index_audit.py finds the index in the plans on generated
data and fails on any index of the two tables that AUDIT does not name: an index comes
with the query that needs it, or it goes.

`world` (built by the test module) holds the ids of the generated data: me, my family,
my accounts, a category, an archived row, and a person with a long history (the text
indexes are for them: for someone with a few hundred rows, their own index is faster)."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import sql


@dataclass(frozen=True)
class Use:
    what: str  # the code path, as a reader would look for it
    explain: Callable[[psycopg.Connection, dict], tuple[Any, Any]] | None = None
    run: Callable[[psycopg.Connection, dict], Any] | None = None


def _access(world: dict):
    return world["access"]


def _ledger_page(*, family: bool = False, archived: bool = False):
    def build(conn, world):
        from chalicelib.ledger.transactions.query import WINDOW_DAYS, Filters, list_query

        access = _access(world)
        parts = access.visible_parts("t", family_id=world["family"]) if family else access.visible_parts("t")
        # fetch_page: the first window (the 45 days below today); with the archive, unbounded.
        f = Filters() if archived else Filters(date_from=date.today() - timedelta(days=WINDOW_DAYS[0]))
        return list_query(parts, f, limit=51, include_archived=archived)

    return build


def _rare_word_page(conn, world):
    from chalicelib.ledger.transactions.query import Filters, list_query

    # fetch_page's last window (unbounded): a rare word fills no page in the first two.
    return list_query(world["whale_access"].visible_parts("t"), Filters(q="zanzibar"), limit=51, include_archived=False)


def _search(conn, world):
    from chalicelib.search.engine import Filters, SearchRequest
    from chalicelib.search.pg_engine import build_search

    _words, query, params = build_search(
        conn, SearchRequest(access=world["whale_access"], q="zanzibar", filters=Filters(), limit=20, after=None)
    )
    return query, params


def _search_prefix(conn, world):
    from chalicelib.search.engine import Filters, SearchRequest
    from chalicelib.search.pg_engine import build_search

    _words, query, params = build_search(
        conn, SearchRequest(access=world["whale_access"], q="zanz", filters=Filters(), limit=20, after=None)
    )
    return query, params


def _edit(conn, world):
    from chalicelib.ledger.transactions import repo

    tx_id, day = world["my_transaction"]
    return repo.update(conn, tx_id, day, {"description": "Audit edit"})


def _categorization(conn, world):
    from chalicelib.categorization.engine import categorization_query

    source = sql.SQL(
        "SELECT 1 AS line, 'Kyoto Market 11' AS description, 'Kyoto Market' AS merchant,"
        " NULL::text AS category_hint, NULL::int AS keyword_slot,"
        " categorization_merchant_key('Kyoto Market') AS merchant_key"
    )
    return categorization_query(conn, source=source, user_id=world["me"], family_id=None)


def _budget_lines(conn, world):
    from chalicelib.budgets.spending import lines_cte

    where = sql.SQL("b.user_id = {}").format(sql.Literal(world["me"]))
    return lines_cte(where=where) + sql.SQL(" SELECT * FROM spent"), None


def _net_worth_moves(conn, world):
    # analytics.repo.net_worth builds and runs its statement in one function: run it.
    from chalicelib.analytics import repo

    today = date.today()
    return repo.net_worth(
        conn,
        _access(world),
        points=[today - timedelta(days=30), today],
        timezone="UTC",
        account_id=world["my_account"],
        family_id=None,
    )


def _analytics_spending(conn, world):
    from chalicelib.analytics import repo

    today = date.today()
    where, params = repo.scope_conditions(
        _access(world), from_=today - timedelta(days=365), to=today, account_id=None, family_id=None
    )
    return repo.spending(conn, _access(world), group_by="category", where=where, params=params)


def _export_count(conn, world):
    from chalicelib.exports.report_repo import ExportScope, source

    today = date.today()
    scope = ExportScope(access=_access(world), date_from=today - timedelta(days=90), date_to=today)
    return conn.execute(sql.SQL("SELECT count(*) AS n FROM {src} s").format(src=source(scope))).fetchone()["n"]


def _stage_statement(conn, world) -> tuple[date, date]:
    """A statement of my account staged by the importer's own code: a copy of the account's
    last 60 rows (pending ones posted now), the shape of a re-downloaded statement."""
    from chalicelib.imports.repo import stage_rows
    from chalicelib.imports.staging import RowSpool
    from chalicelib.imports.statement import StatementRow

    rows = conn.execute(
        """SELECT transaction_date, amount, description, merchant, external_id FROM transactions
            WHERE account_id = %s ORDER BY transaction_date DESC LIMIT 60""",
        (world["my_account"],),
    ).fetchall()
    with RowSpool() as spool:
        for i, r in enumerate(rows, start=1):
            spool.add(
                StatementRow(
                    line=i,
                    transaction_date=r["transaction_date"],
                    amount=Decimal(r["amount"]),
                    description=r["description"],
                    merchant=r["merchant"],
                    external_id=r["external_id"],
                )
            )
        spool.finish()
        stage_rows(conn, spool)
    return spool.first_date, spool.last_date


def _import_dedupe(conn, world):
    from chalicelib.imports.repo import mark_duplicates

    first, last = _stage_statement(conn, world)
    return mark_duplicates(conn, account_id=world["my_account"], first=first, last=last)


def _get_transaction(conn, world):
    from chalicelib.ledger.transactions import repo

    return repo.get(conn, world["my_transaction"][0], for_update=True)


def _delete_transaction(conn, world):
    from chalicelib.ledger.transactions import repo

    return repo.delete(conn, *world["my_transaction"])


def _get_archived(conn, world):
    from chalicelib.ledger.transactions import repo

    return repo.get_archived(conn, world["archived_transaction"])


def _account_has_transactions(conn, world):
    from chalicelib.ledger.accounts import repo

    return repo.has_transactions(conn, world["my_account"])


def _account_moves(conn, world):
    from chalicelib.ledger.accounts import repo

    return repo.move_transactions(conn, world["my_account"], family_id=world["family"], user_id=None)


def _category_deleted(conn, world):
    from chalicelib.ledger.categories import repo

    return repo.reassign_and_delete(conn, world["category"], None)


def _family_deleted(conn, world):
    from chalicelib.erasure import repo

    return repo.delete_family(conn, world["family"])


def _bank_sync_page(conn, world):
    """A Plaid page staged by the sync's own code: the rows it already holds are found by
    (account, Plaid id), and a removed id is deleted the same way."""
    from chalicelib.bank_sync import page_repo

    account = world["my_account"]
    row = {
        "line": 1, "kind": "modified", "plaid_id": "audit-plaid-1", "pending_plaid_id": None, "account_id": account,
        "amount": Decimal("-4.50"), "currency": "USD", "description": "COFFEE", "merchant": None, "location": None,
        "transaction_date": date.today(), "posted_date": None, "status": "posted",
        "plaid_category_id": None, "plaid_confidence": None, "keyword_slot": None, "merchant_key": None,
        "category_hint": None,
    }  # fmt: skip
    page_repo.stage(conn, [row], account_ids=[account])
    return page_repo.write(conn, user_id=world["me"], account_ids=[account], removed=["audit-plaid-gone"])


LIVE = "transactions"
ARCHIVE = "transactions_archive"
POSTINGS = "search_postings"  # sql/1301: written with every row, so audited with the two tables

# (table, index) -> the uses that need it. Order: as in sql/.
#
# Checked and left out, because on this data their plans use none of these indexes (a
# hash join or a scan of the few partitions in range serves them better): the
# unusual-spending schedule (insights.unusual._FLAGS, all users' last week and its
# history), recurring payments (insights.repo.candidate_groups, 400 days of a viewer's
# accounts), the personal half of erasure (its OR with an account list), the dashboard
# (this month of the caller's accounts: a scan of one partition).
AUDIT: dict[tuple[str, str], list[Use]] = {
    (LIVE, "transactions_pkey"): [
        Use("ledger: GET/PATCH/DELETE /transactions/{id} (transactions.repo.get, by id alone)", run=_get_transaction),
        Use("ledger: DELETE /transactions/{id} (transactions.repo.delete, by id and date)", run=_delete_transaction),
    ],
    (LIVE, "idx_transactions_user_id"): [
        Use("analytics: GET /analytics/spending, own personal rows (analytics.repo.spending)", run=_analytics_spending),
        Use("exports: the rows of an export, own personal rows (report_repo.source)", run=_export_count),
    ],
    (LIVE, "idx_transactions_taught"): [
        Use(
            "categorization: learned merchants, a person's hand-categorized rows (engine.categorization_query)",
            explain=_categorization,
        ),
    ],
    (LIVE, "idx_transactions_category_id"): [
        Use(
            "ledger: DELETE /categories/{id} re-files its transactions (categories.repo.reassign_and_delete)",
            run=_category_deleted,
        ),
    ],
    (LIVE, "idx_transactions_personal_page"): [
        Use("ledger: GET /transactions, own personal rows (query.list_query)", explain=_ledger_page()),
    ],
    (LIVE, "idx_transactions_family_page"): [
        Use("ledger: GET /transactions?family_id= (query.list_query)", explain=_ledger_page(family=True)),
        Use("families/erasure: a family deleted (erasure.repo.delete_family)", run=_family_deleted),
        Use("analytics: GET /analytics/spending, the family's rows (analytics.repo.spending)", run=_analytics_spending),
        Use("exports: the rows of an export, the family's rows (report_repo.source)", run=_export_count),
    ],
    (LIVE, "idx_transactions_text_trgm"): [
        Use("ledger: GET /transactions?q= rare word, unbounded window (query.list_query)", explain=_rare_word_page),
    ],
    (LIVE, "idx_transactions_account_page"): [
        Use(
            "ledger: DELETE /accounts/{id} asks whether it has rows (accounts.repo.has_transactions)",
            run=_account_has_transactions,
        ),
        Use("ledger: an account moves into a family (accounts.repo.move_transactions)", run=_account_moves),
        Use("budgets: spent per line, by account and category (spending.lines_cte)", explain=_budget_lines),
        Use("analytics: net worth, an account's moves (analytics.repo.net_worth)", run=_net_worth_moves),
        Use(
            "imports: dedupe by (date, amount, description) in the account (imports.repo.mark_duplicates)",
            run=_import_dedupe,
        ),
    ],
    (LIVE, "idx_transactions_account_external"): [
        Use("imports: dedupe by external id (imports.repo.mark_duplicates)", run=_import_dedupe),
    ],
    (LIVE, "idx_transactions_account_pending"): [
        Use("imports: a posted row finds its pending twin (imports.repo.match_pending_twins)", run=_import_dedupe),
    ],
    (LIVE, "idx_transactions_account_plaid_id"): [
        Use(
            "bank sync: a Plaid page finds the rows it holds and deletes removed ones (bank_sync.page_repo)",
            run=_bank_sync_page,
        ),
    ],
    (POSTINGS, "idx_search_postings_word"): [
        Use("search: GET /search on PostgreSQL, a word's postings (pg_engine.build_search)", explain=_search),
        Use("search: GET /search on PostgreSQL, a prefix's postings (pg_engine.build_search)", explain=_search_prefix),
    ],
    (POSTINGS, "idx_search_postings_id"): [
        Use("search: the postings of a deleted row go (sql/1301 search_postings_on_delete)", run=_delete_transaction),
        Use("search: the postings of an edited row are rewritten (sql/1301 search_postings_on_update)", run=_edit),
    ],
    (ARCHIVE, "transactions_archive_pkey"): [
        Use("ledger: GET /transactions/{id} of an archived row (transactions.repo.get_archived)", run=_get_archived),
    ],
    (ARCHIVE, "idx_transactions_archive_personal_page"): [
        Use("ledger: GET /transactions?include_archived=true (query.list_query)", explain=_ledger_page(archived=True)),
    ],
    (ARCHIVE, "idx_transactions_archive_family_page"): [
        Use(
            "ledger: GET /transactions?family_id=&include_archived=true (query.list_query)",
            explain=_ledger_page(family=True, archived=True),
        ),
        Use("families/erasure: a family deleted, its archived rows (erasure.repo.delete_family)", run=_family_deleted),
    ],
    (ARCHIVE, "idx_transactions_archive_category_id"): [
        Use(
            "ledger: DELETE /categories/{id} re-files archived rows (categories.repo.reassign_and_delete)",
            run=_category_deleted,
        ),
    ],
    (ARCHIVE, "idx_transactions_archive_account_page"): [
        Use(
            "ledger: DELETE /accounts/{id} asks whether it has archived rows (accounts.repo.has_transactions)",
            run=_account_has_transactions,
        ),
        Use(
            "ledger: an account moves into a family, archived rows (accounts.repo.move_transactions)",
            run=_account_moves,
        ),
    ],
}
