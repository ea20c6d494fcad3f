"""CSV statements, streamed twice over the spooled file: the first pass learns the
file-wide rules (date order, decimal separator, whether references are unique, which
reading of the money its balances and signs justify), the second turns records into
rows. Neither pass holds more than one record (and the row before it, which a
continuation line may still extend)."""

import csv
import itertools
import re
from collections import Counter
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import TextIO

from chalicelib.imports.csv_layout import SAMPLE_LINES, Layout, apply_mapping, detect_layout, fold_record
from chalicelib.imports.csv_money import MoneyDecision, MoneyLearner
from chalicelib.imports.rejections import ImportRejected, LineError, MappingRequired, ReadReport, Skipped
from chalicelib.imports.statement import StatementRow, finish_row
from chalicelib.imports.values import ORDER_LABELS, DateEvidence, date_shape, parse_amount, parse_date

# Rows that state a balance or a total rather than move money. A description that opens
# with a balance phrase is one even with a date and an amount (Swedbank's "Likutis
# pradžiai"); the weaker words ("Total", "Balance", "Umsatz") only on a row that is
# nothing but the word, or lacks a date or money: "TOTAL WINE & MORE" is a shop.
_BALANCE_ROW = re.compile(
    r"(?i)^\W*((opening|closing|beginning|ending|starting|previous|final|initial|statement)\s+balance|"
    r"balance\s+(brought|carried|b/f|c/f)|anfangssaldo|endsaldo|alter kontostand|neuer kontostand|beginsaldo|"
    r"eindsaldo|saldo (iniziale|finale|anterior|inicial|final|precedente|początkowe|poczatkowe|końcowe|koncowe)|"
    r"solde (initial|final|precedent|précédent)|likutis|apyvarta)\b"
)
_SUMMARY = re.compile(
    r"(?i)(\b(opening|closing|beginning|ending|starting|previous|new|final|initial|available|current|ledger|"
    r"statement)\s+balance\b|\bbalance\s+(brought|carried|b/f|c/f)|^\W*(total|totals|sum|summe|gesamt|somme|"
    r"totaal|turnover|umsatz|umsätze|saldo|solde|kontostand|balance|kokku)\b)"
)
_PENDING = re.compile(
    r"(?i)^\s*(pending|vorgemerkt|vorgemerkte umsätze|in bearbeitung|en attente|en cours|in behandeling|"
    r"pendiente|in sospeso|not yet posted|authori[sz]ed|authori[sz]ation|в обработке|обрабатывается|"
    r"заблокировано|холд)\s*$"
)
_POSTED = re.compile(r"(?i)^\s*(posted|booked|cleared|settled|completed|gebucht|comptabilise|geboekt|contabilizado)")
_DISTINCT_DATES = 50_000
# Codes banks still print for a currency whose ISO code changed.
_CURRENCY_ALIASES = {"RUR": "RUB", "РУБ": "RUB", "RUR.": "RUB"}


def _records(text: TextIO, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(first physical line of the record, fields); lines counted from 1 like a person does."""
    # Not strict: banks write unescaped quotes inside quoted fields ("UAB "Naktida""); a
    # record that comes out with the wrong number of fields is still reported as bad.
    reader = csv.reader(text, delimiter=delimiter)
    while True:
        line = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ImportRejected(
                f"The CSV file is malformed at line {line}: {exc}", [LineError(line, f"malformed CSV: {exc}")]
            ) from None
        yield line, record


class CsvStatement:
    def __init__(self, open_text: Callable[[], TextIO], *, mapping: dict | None, account: dict):
        self._open = open_text
        self.account = account
        self.currency = account["currency"]
        with self._open() as text:
            sample = list(itertools.islice(text, SAMPLE_LINES))
        self.layout: Layout = apply_mapping(sample, mapping) if mapping else detect_layout(sample)
        self.date_order = ""
        self.decimal_separator = "."
        self.references_usable = False
        self.latest_date = None
        self.money: MoneyDecision | None = None
        self.report = ReadReport()
        # Column positions looked up once: these are asked for on every record.
        cols = self.layout.columns
        self._text_columns = [cols[r] for r in ("description", "payee", "memo", "type") if r in cols]
        self._money_columns = sorted({i for rule in self.layout.money for i in rule.columns().values()})
        used = [*cols.values(), *self._money_columns]
        self._last_used = max(used, default=0)
        self._summaries: set[int] = set()  # lines the first pass found to be summary rows

    # --- reading records ---------------------------------------------------------

    def _data(self) -> Iterator[tuple[int, list[str]]]:
        with self._open() as text:
            for index, (line, record) in enumerate(_records(text, self.layout.delimiter)):
                if index < self.layout.first_record or not any(c.strip() for c in record):
                    continue
                if self.layout.fold_extra or self._foldable(record):
                    record = fold_record(record, self.layout.width)
                yield line, record

    def _fits(self, record: list[str]) -> bool:
        width = self.layout.width
        return len(record) == width or (len(record) > width and not any(c.strip() for c in record[width:]))

    def _foldable(self, record: list[str]) -> bool:
        """A longer record whose extra fields can only continue the last column: no
        column the import reads stands at or after it (ING NL's unquoted remarks)."""
        return len(record) > self.layout.width and self._last_used < self.layout.width - 1

    def _cell(self, record: list[str], role: str) -> str:
        index = self.layout.columns.get(role)
        if index is None or index >= len(record):
            return ""
        return record[index].strip()

    def _at(self, record: list[str]) -> Callable[[int], str]:
        return lambda i: record[i].strip() if i < len(record) else ""

    def _text(self, record: list[str]) -> str:
        size = len(record)
        return " ".join(t for t in (record[i].strip() for i in self._text_columns if i < size) if t)

    def _money_cells_empty(self, record: list[str]) -> bool:
        size = len(record)
        return not any(record[i].strip() for i in self._money_columns if i < size)

    # --- the first pass ----------------------------------------------------------

    def _learn(self) -> None:
        cols, layout = self.layout.columns, self.layout
        dates = DateEvidence()
        separators: Counter = Counter()
        references: set[str] = set()
        unique = True
        raw_dates: set[str] = set()
        learner = MoneyLearner(layout.money, balance=cols.get("balance"), account_type=self.account.get("type", ""))
        broken = False
        for line, record in self._data():
            if not self._fits(record):
                broken = broken or (any(date_shape(c.strip()) for c in record) and any(map(_amount_like, record)))
                continue
            if self._summary(record):
                self._summaries.add(line)
                continue
            if self._balance_only(record):
                continue
            date_text = self._cell(record, "date")
            if not date_shape(date_text) and self._money_cells_empty(record):
                continue  # continuation text
            for role in ("date", "posted_date"):
                if role in cols and cols[role] < len(record):
                    dates.add(record[cols[role]])
            if date_text and len(raw_dates) < _DISTINCT_DATES and date_shape(date_text):
                raw_dates.add(date_text)
            cell = self._at(record)
            for i in self._money_columns:
                text = cell(i)
                if not text:
                    continue
                try:
                    sep = parse_amount(text).decimal_separator
                except ValueError:
                    continue
                if sep:
                    separators[sep] += 1
            learner.add(line, cell, self._text(record) if learner.reads_descriptions else "")
            if unique and "reference" in cols and cols["reference"] < len(record):
                ref = record[cols["reference"]].strip()
                if ref:
                    unique = ref not in references
                    references.add(ref)
        self.date_order = layout.date_order or dates.order()
        self.decimal_separator = layout.decimal_separator or (separators.most_common(1)[0][0] if separators else ".")
        # A reference column becomes the external id only when it identifies rows: many
        # banks fill it with "NOTPROVIDED" or a batch number shared by several lines.
        self.references_usable = unique and bool(references)
        parsed = []
        for text in raw_dates:
            try:
                parsed.append(parse_date(text, self.date_order))
            except ValueError:
                continue
        self.latest_date = max(parsed) if parsed else None
        if layout.from_mapping:
            sign = -1 if layout.invert_sign else 1
            self.money = MoneyDecision(layout.money[0], sign, False, "mapping", False, "mapping")
        else:
            try:
                self.money = learner.decide(layout.header, file_has_bad_lines=broken)
            except MappingRequired as exc:
                exc.layout = self._describe()
                raise

    # --- the second pass ---------------------------------------------------------

    def rows(self) -> Iterator[StatementRow | LineError | Skipped]:
        self._learn()
        rule = self.money.rule
        self._decided_columns = [i for role, i in rule.columns().items() if role != "direction"]
        self.report.layout = self._describe()
        held: StatementRow | LineError | None = None
        for line, record in self._data():
            item = self._row(line, record)
            if isinstance(item, str):  # a continuation of the row above
                if isinstance(held, StatementRow):
                    held.description = f"{held.description} {item}"[:2000]
                else:
                    self.report.skipped.append(Skipped(line, "text line without a transaction"))
                continue
            if isinstance(item, Skipped):
                self.report.skipped.append(item)
                continue
            if held is not None:
                yield held
            held = item
        if held is not None:
            yield held

    def _summary(self, record: list[str]) -> bool:
        text = self._text(record) or " ".join(c.strip() for c in record if c.strip())
        if _BALANCE_ROW.match(self._cell(record, "description") or text):
            return True
        # "Balance" inside a real payment ("BALANCE TRANSFER FEE") is money moving: only a
        # row without a date or without money, or one that is nothing but the phrase, is a
        # summary. Anchored matches first: most rows have a date and money, and are done here.
        if date_shape(self._cell(record, "date")) is not None and not self._money_cells_empty(record):
            return _SUMMARY.fullmatch(text.strip()) is not None
        return _SUMMARY.search(text) is not None

    def _balance_only(self, record: list[str]) -> bool:
        """A "Beginning balance" line: a balance and no money moving (Bank of America)."""
        if "balance" not in self.layout.columns or not self._cell(record, "balance"):
            return False
        return self._money_cells_empty(record)

    def _row(self, line: int, record: list[str]) -> StatementRow | LineError | Skipped | str | None:
        layout = self.layout
        size = len(record)
        # Every role's cell once (this runs for every row of a 100,000-row file).
        v = {role: record[i].strip() for role, i in layout.columns.items() if i < size}
        if line in self._summaries or (not self._fits(record) and self._summary(record)):
            return Skipped(line, "balance or summary row")
        date_text = v.get("date", "")
        status = "posted"
        status_text = v.get("status", "")
        if _PENDING.match(date_text) or (
            status_text and not _POSTED.match(status_text) and _PENDING.search(status_text)
        ):
            status = "pending"
        if not self._fits(record):
            words = " ".join(c.strip() for c in record if c.strip())
            has_data = any(date_shape(c.strip()) for c in record) and any(_amount_like(c) for c in record)
            if not has_data:
                return words  # a continuation line
            return LineError(line, f"expected {layout.width} fields, found {len(record)}")
        if status == "posted" and not date_shape(date_text) and self._money_cells_empty(record):
            text = " ".join(c.strip() for c in record if c.strip())
            return text if text else None
        if self._balance_only(record):
            return Skipped(line, "balance row")
        problems: list[str] = []
        transaction_date = posted = None
        posted_text = v.get("posted_date", "")
        if posted_text and not _PENDING.match(posted_text):
            try:
                posted = parse_date(posted_text, self.date_order)
            except ValueError as exc:
                problems.append(f"posted date: {exc}")
        elif posted_text:
            status = "pending"
        if status == "pending" and not date_shape(date_text):
            # A row the bank dates "Pending": booked on the posted date, else the newest day of the file.
            transaction_date = posted or self.latest_date
            if transaction_date is None:
                problems.append("date is missing (the row is pending and the file has no other dates)")
        else:
            try:
                transaction_date = parse_date(date_text, self.date_order)
            except ValueError as exc:
                problems.append(str(exc))
        amount = self._money(record, problems)
        currency = v.get("currency", "").upper()
        currency = _CURRENCY_ALIASES.get(currency, currency)
        if currency and currency != self.currency:
            problems.append(f"currency {currency} is not the account's currency {self.currency}")
        payee = v.get("payee", "")
        row = finish_row(
            line,
            problems,
            transaction_date=transaction_date,
            amount=amount,
            description=v.get("description", ""),
            posted_date=posted,
            merchant=payee or None,
            memo=v.get("memo", ""),
            external_id=v.get("reference", "") if self.references_usable else None,
            category_hint=v.get("category", ""),
            status=status,
            fallbacks=(v.get("reference", ""), v.get("type", "")),
        )
        return Skipped(line, "zero amount: no money moves") if row is None else row

    def _money(self, record: list[str], problems: list[str]) -> Decimal | None:
        decision = self.money
        cell = self._at(record)
        for i in self._decided_columns:
            text = cell(i)
            if not text:
                continue
            try:
                separator = parse_amount(text).decimal_separator
            except ValueError:
                continue
            if separator and separator != self.decimal_separator:
                problems.append(
                    f"amount {text!r} uses {separator!r} as decimal separator, the rest of the file "
                    f"{self.decimal_separator!r}"
                )
                return None
        try:
            value, marker = decision.rule.read(cell)
        except ValueError as exc:
            problems.append(str(exc))
            return None
        if decision.credits_marked and marker not in ("+", "cr"):
            value = -abs(value)
        return value * decision.sign

    def _describe(self) -> dict:
        layout = self.layout
        described = layout.describe()
        columns = described["columns"]
        decision = self.money
        if decision is not None:
            rule = decision.rule
            if rule.amount is not None:
                columns["amount"] = {"column": rule.label(layout.header), "because": decision.because}
            else:
                columns["amount"] = {"column": rule.label(layout.header), "because": decision.because}
                for role in ("debit", "credit"):
                    index = getattr(rule, role)
                    if index is not None:
                        columns[role] = {"column": layout.column_name(index), "because": decision.because}
            if rule.direction is not None:
                columns["direction"] = {"column": layout.column_name(rule.direction), "because": decision.because}
        return described | {
            "format": "csv",
            "date_order": ORDER_LABELS.get(self.date_order, self.date_order) if self.date_order else None,
            "decimal_separator": self.decimal_separator,
            "sign_convention": decision.convention if decision else None,
            "checked_against_balance": bool(decision and decision.checked_against_balance),
        }


def _amount_like(cell: str) -> bool:
    try:
        parse_amount(cell)
    except ValueError:
        return False
    return True
