"""What every parser produces: statement rows, one per transaction, each knowing its line."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from chalicelib.imports.rejections import LineError

MAX_EXTERNAL_ID = 255
MAX_MERCHANT = 255
NO_DESCRIPTION = "(no description)"


@dataclass(slots=True)
class StatementRow:
    line: int
    transaction_date: date
    amount: Decimal
    description: str
    posted_date: date | None = None
    merchant: str | None = None
    memo: str | None = None
    external_id: str | None = None
    category_hint: str | None = None
    # "pending" for rows the bank marks as not yet booked; a later posted twin replaces them.
    status: str = "posted"


def clean_text(value: str | None) -> str | None:
    if value is None:
        return None
    text = " ".join(value.split())
    return text or None


def finish_row(
    line: int,
    problems: list[str],
    *,
    transaction_date: date | None,
    amount: Decimal | None,
    description: str | None,
    posted_date: date | None = None,
    merchant: str | None = None,
    memo: str | None = None,
    external_id: str | None = None,
    category_hint: str | None = None,
    status: str = "posted",
    fallbacks: tuple[str | None, ...] = (),
) -> StatementRow | LineError | None:
    """The row, or one LineError naming everything wrong with it; None for a zero amount
    (balance notes and authorizations carry no money and cannot be a transaction).
    Only a missing date or amount makes a bad row: a row without a description takes the
    payee, the memo, then the `fallbacks` (reference, name, type text), else NO_DESCRIPTION."""
    description = (
        clean_text(description)
        or clean_text(merchant)
        or clean_text(memo)
        or next((t for t in map(clean_text, fallbacks) if t), None)
        or NO_DESCRIPTION
    )
    if transaction_date is None and not any("date" in p for p in problems):
        problems.append("date is missing")
    if amount is None and not problems:
        problems.append("amount is missing")
    external_id = clean_text(external_id)
    if external_id and len(external_id) > MAX_EXTERNAL_ID:
        problems.append(f"reference is longer than {MAX_EXTERNAL_ID} characters")
    if problems:
        return LineError(line, "; ".join(problems))
    if amount == 0:
        return None
    merchant = clean_text(merchant)
    memo = clean_text(memo)
    return StatementRow(
        line=line,
        transaction_date=transaction_date,
        amount=amount,
        description=description,
        posted_date=posted_date,
        merchant=merchant[:MAX_MERCHANT] if merchant else None,
        memo=memo if memo != description else None,
        external_id=external_id,
        category_hint=clean_text(category_hint),
        status=status,
    )
