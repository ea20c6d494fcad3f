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

from chalicelib.imports.rejections import ImportRejected, LineError, MappingRequired, ReadReport, Skipped
from chalicelib.imports.statement import StatementRow, finish_row
from chalicelib.imports.values import ORDER_LABELS, DateEvidence, parse_amount, parse_date

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


_COMMENT = ("#", ";", "//")


@dataclass
class _Section:
    kind: str
    account: str | None


def _records(text: TextIO, report: ReadReport) -> Iterator[tuple[_Record, _Section]]:
    """Every record with the section it stands in. Comment lines are passed over; records
    of sections that hold no bank transactions (investments, the category and class
    lists, memorized transactions) are reported as skipped, not read."""
    section: _Section | None = None
    account_name: str | None = None
    current: _Record | None = None
    for number, raw in enumerate(text, start=1):
        stripped = raw.rstrip("\r\n").strip()
        if not stripped:
            continue
        if stripped.startswith(_COMMENT):
            report.skipped.append(Skipped(number, "comment line"))
            continue
        if stripped.startswith("!"):
            header = stripped[1:].lower()
            if header.startswith("type:"):
                section = _Section(" ".join(header[5:].split()), account_name)
            elif header == "account":
                section = _Section("account", None)
            elif header.startswith(("option", "clear")):
                pass
            current = None
            continue
        if section is None:
            raise ImportRejected(
                "The QIF file has no !Type header", [LineError(number, "transaction before any !Type header")]
            )
        if stripped == "^":
            if current is not None:
                if section.kind == "account":
                    account_name = current.first("N")
                elif section.kind in _TRANSACTION_TYPES:
                    yield current, section
                elif section.kind == "invst":
                    report.skipped.append(Skipped(current.line, "investment account record (not imported)"))
            current = None
            continue
        if current is None:
            current = _Record(number, [])
        current.fields.append(stripped)
    if current is not None and section is not None and section.kind in _TRANSACTION_TYPES:
        yield current, section


class QifStatement:
    def __init__(self, open_text, *, account: dict, mapping: dict | None = None):
        self._open = open_text
        self.account = account
        self.currency = account["currency"]
        self.wanted = (mapping or {}).get("account")
        self.report = ReadReport(layout={"format": "qif"})

    def _chosen_account(self) -> str | None:
        """Which account's sections to read when the file holds several."""
        scratch = ReadReport()
        with self._open() as text:
            names: dict[str | None, int] = {}
            for _, section in _records(text, scratch):
                names[section.account] = names.get(section.account, 0) + 1
        if self.wanted is not None:
            if self.wanted not in names:
                raise ImportRejected(f"The QIF file holds no account named {self.wanted!r}")
            return self.wanted
        if len(names) <= 1:
            return next(iter(names), None)
        raise MappingRequired(
            f"The QIF file holds transactions of {len(names)} accounts; confirm the import with a mapping that "
            "names the account to take",
            [{"role": "statement", "column": name, "meaning": f"{count} transaction(s)", "mapping": {"account": name}}
             for name, count in names.items()],
            layout=self.report.layout,
        )  # fmt: skip

    def rows(self) -> Iterator[StatementRow | LineError | Skipped]:
        chosen = self._chosen_account()
        evidence = DateEvidence()
        with self._open() as text:
            for record, section in _records(text, ReadReport()):
                if section.account == chosen:
                    evidence.add(_qif_date(record.first("D") or ""))
        order = evidence.order()
        self.report.layout |= {"date_order": ORDER_LABELS[order], "sign_convention": "signed", "account": chosen}
        with self._open() as text:
            for record, section in _records(text, self.report):
                if section.account != chosen:
                    self.report.skipped.append(Skipped(record.line, f"another account ({section.account})"))
                    continue
                row = self._row(record, order)
                if row is None:
                    self.report.skipped.append(Skipped(record.line, "zero amount"))
                else:
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
            except Exception:  # quiffen raises ValueError, pydantic errors and its own
                parsed = None  # the fields we need are read from the record itself below
        payee = (parsed.payee if parsed else None) or record.first("P")
        memo = (parsed.memo if parsed else None) or record.first("M")
        category = None
        if parsed is not None and parsed.category is not None:
            category = parsed.category.name
        number = record.first("N")
        return finish_row(
            record.line,
            problems,
            transaction_date=transaction_date,
            amount=amount,
            description=payee,
            merchant=payee,
            memo=memo,
            category_hint=category or record.first("L"),
            fallbacks=(number and f"Check {number}" if number and number.isdigit() else number, record.first("L")),
        )
