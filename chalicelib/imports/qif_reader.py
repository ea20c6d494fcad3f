"""QIF statements (Quicken Interchange Format: bank, cash, credit-card and other-asset
sections). Records are cut at `^` here so every transaction keeps its line number;
quiffen reads each record's fields (payee, memo, category and class, transfers,
splits). Dates and amounts are read by our own rules instead of quiffen's: its amount
reader drops every character but digits, point and minus (a European "1.234,56" would
become 1.23456) and its dates are guessed per row; a file gets one date rule here, as
CSV files do."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TextIO

from chalicelib.imports.rejections import ImportRejected, LineError
from chalicelib.imports.statement import StatementRow, finish_row
from chalicelib.imports.values import DateEvidence, parse_amount, parse_date

_TRANSACTION_TYPES = {"bank", "cash", "ccard", "oth a", "oth l"}


@dataclass
class _Record:
    line: int
    fields: list[str]

    def first(self, code: str) -> str | None:
        for f in self.fields:
            if f[:1] == code:
                return f[1:].strip()
        return None


def _qif_date(text: str) -> str:
    # Quicken writes 1/ 5'24 or 01/05/2024; the apostrophe marks a two-digit year.
    return text.strip().replace("'", "/").replace(" ", "0")


def _records(text: TextIO) -> Iterator[_Record]:
    section: str | None = None
    accounts = 0
    current: _Record | None = None
    for number, raw in enumerate(text, start=1):
        line = raw.rstrip("\r\n")
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("!"):
            header = stripped[1:].lower()
            if header.startswith("type:"):
                section = " ".join(header[5:].split())
                if section == "invst":
                    raise ImportRejected("The QIF file is an investment account; only bank and card accounts import")
            elif header == "account":
                section = "account"
                accounts += 1
                if accounts > 1:
                    raise ImportRejected("The QIF file holds several accounts; import one account per file")
            continue
        if section is None:
            raise ImportRejected(
                "The QIF file has no !Type header", [LineError(number, "transaction before any !Type header")]
            )
        if stripped == "^":
            if current is not None and section in _TRANSACTION_TYPES:
                yield current
            current = None
            continue
        if current is None:
            current = _Record(number, [])
        current.fields.append(stripped)
    if current is not None and section in _TRANSACTION_TYPES:
        yield current


class QifStatement:
    def __init__(self, open_text, *, currency: str):
        self._open = open_text
        self.currency = currency

    def rows(self) -> Iterator[StatementRow | LineError]:
        evidence = DateEvidence()
        with self._open() as text:
            for record in _records(text):
                evidence.add(_qif_date(record.first("D") or ""))
        order = evidence.order()
        with self._open() as text:
            for record in _records(text):
                row = self._row(record, order)
                if row is not None:
                    yield row

    def _row(self, record: _Record, order: str) -> StatementRow | LineError | None:
        from quiffen import Transaction

        problems: list[str] = []
        transaction_date = amount = None
        try:
            transaction_date = parse_date(_qif_date(record.first("D") or ""), order)
        except ValueError as exc:
            problems.append(str(exc))
        amount_text = record.first("T") or record.first("U") or ""
        try:
            amount = parse_amount(amount_text).value
        except ValueError as exc:
            problems.append(str(exc))
        parsed = None
        if not problems:
            # quiffen gets the date and amount already read (ISO date, plain decimal).
            fields = [f"D{transaction_date.isoformat()}", f"T{amount}"]
            fields += [f for f in record.fields if f[:1] not in ("D", "T", "U", "$")]
            try:
                parsed, _classes = Transaction.from_list(fields, line_number=record.line)
            except Exception as exc:  # quiffen raises ValueError, pydantic errors and its own
                problems.append(f"unreadable QIF fields: {str(exc).splitlines()[0][:200]}")
        payee = parsed.payee if parsed else record.first("P")
        memo = parsed.memo if parsed else record.first("M")
        category = None
        if parsed is not None and parsed.category is not None:
            category = parsed.category.name
        return finish_row(
            record.line,
            problems,
            transaction_date=transaction_date,
            amount=amount,
            description=payee or memo,
            merchant=payee,
            memo=memo,
            category_hint=category,
        )
