"""The first pass of analytics from the monthly roll-up (sql/1241).

Whole months of the range come from `transaction_monthly_totals` (a few rows per account,
category and month); the partial months at either end still come from `transactions`. Both
give the rows repo's first pass gives (category_id, key, inflow, amount, n), so the
classification, labels and scope that follow are the same SQL. Groupings the roll-up does
not hold (merchant, week) are not answered here: None, and repo scans `transactions`."""

from datetime import date, timedelta
from typing import Any
from uuid import UUID

from psycopg import sql

from chalicelib.core.dates import shift_month
from chalicelib.families.access import Access

# Group key per grouping, from the roll-up row (m) and from a transaction (t).
_KEYS = {
    "category": ("NULL::text", "NULL::text"),
    "top_category": ("NULL::text", "NULL::text"),
    "month": ("to_char(m.month, 'YYYY-MM')", "to_char(t.transaction_date, 'YYYY-MM')"),
    "account": ("m.account_id::text", "t.account_id::text"),
    "month_period": ("m.month::text", "date_trunc('month', t.transaction_date)::date::text"),
}


def whole_months(from_: date, to: date) -> tuple[date, date] | None:
    """[first, end): the months lying wholly inside [from_, to], or None when there is none."""
    first = from_ if from_.day == 1 else shift_month(from_, 1)
    end = shift_month(to, 1) if (to + timedelta(days=1)).day == 1 else shift_month(to, 0)
    return (first, end) if first < end else None


def _owner_conditions(
    alias: str, access: Access, account_id: UUID | None, family_id: UUID | None, params: dict[str, Any]
) -> list[sql.Composable]:
    conds: list[sql.Composable] = [access.visible(alias)]
    if account_id is not None:
        params["tot_account"] = account_id
        conds.append(sql.SQL("{} = %(tot_account)s").format(sql.Identifier(alias, "account_id")))
    if family_id is not None:
        params["tot_family"] = family_id
        conds.append(sql.SQL("{} = %(tot_family)s").format(sql.Identifier(alias, "family_id")))
    return conds


def base(
    access: Access, *, group_by: str, from_: date, to: date, account_id: UUID | None, family_id: UUID | None
) -> tuple[sql.Composable, dict[str, Any]] | None:
    """(the first pass as SQL, its parameters), or None when the roll-up cannot answer."""
    months = whole_months(from_, to)
    if group_by not in _KEYS or months is None:
        return None
    rollup_key, row_key = (sql.SQL(k) for k in _KEYS[group_by])
    params: dict[str, Any] = {"tot_from": months[0], "tot_to": months[1]}
    rollup_where = sql.SQL(" AND ").join(_owner_conditions("m", access, account_id, family_id, params))
    parts = [
        sql.SQL(
            """SELECT m.category_id, {key} AS key, m.inflow, m.amount, m.n
                 FROM transaction_monthly_totals m
                WHERE {where} AND m.month >= %(tot_from)s AND m.month < %(tot_to)s"""
        ).format(key=rollup_key, where=rollup_where)
    ]
    edges = []
    if from_ < months[0]:
        edges.append((from_, months[0] - timedelta(days=1)))
    if months[1] <= to:
        edges.append((months[1], to))
    row_where = sql.SQL(" AND ").join(
        [*_owner_conditions("t", access, account_id, family_id, params), sql.SQL("t.status <> 'cancelled'")]
    )
    for i, (start, end) in enumerate(edges):
        params[f"edge{i}_from"], params[f"edge{i}_to"] = start, end
        parts.append(
            sql.SQL(
                """SELECT t.category_id, {key}, t.amount > 0, sum(t.amount), count(*)
                     FROM transactions t
                    WHERE {where} AND t.transaction_date BETWEEN {start} AND {end}
                    GROUP BY 1, 2, 3"""
            ).format(
                key=row_key,
                where=row_where,
                start=sql.Placeholder(f"edge{i}_from"),
                end=sql.Placeholder(f"edge{i}_to"),
            )
        )
    query = sql.SQL(
        """SELECT category_id, key, inflow, sum(amount) AS amount, sum(n) AS n
             FROM ({parts}) AS parts
            GROUP BY 1, 2, 3"""
    ).format(parts=sql.SQL(" UNION ALL ").join(parts))
    return query, params
