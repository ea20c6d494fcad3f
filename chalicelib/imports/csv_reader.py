"""CSV statements, streamed twice over the spooled file: the first pass learns the
file-wide rules (date order, decimal separator, whether references are unique), the
second turns records into rows. Neither pass holds more than one record."""

import csv
import itertools
from collections import Counter
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import TextIO

from chalicelib.imports.csv_layout import DIRECTION_WORDS, SAMPLE_LINES, Layout, apply_mapping, detect_layout
from chalicelib.imports.rejections import ImportRejected, LineError
from chalicelib.imports.statement import StatementRow, finish_row
from chalicelib.imports.values import DateEvidence, parse_amount, parse_date

_MONEY_ROLES = ("amount", "debit", "credit")


def _records(text: TextIO, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(first physical line of the record, fields); lines counted from 1 like a person does."""
    reader = csv.reader(text, delimiter=delimiter, strict=True)
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
    def __init__(self, open_text: Callable[[], TextIO], *, mapping: dict | None, currency: str):
        self._open = open_text
        self.currency = currency
        with self._open() as text:
            sample = list(itertools.islice(text, SAMPLE_LINES))
        self.layout: Layout = apply_mapping(sample, mapping) if mapping else detect_layout(sample)
        self.date_order = ""
        self.decimal_separator = "."
        self.references_usable = False

    def _data(self) -> Iterator[tuple[int, list[str]]]:
        with self._open() as text:
            for index, (line, record) in enumerate(_records(text, self.layout.delimiter)):
                if index < self.layout.first_record or not any(c.strip() for c in record):
                    continue
                yield line, record

    def _learn(self) -> None:
        cols = self.layout.columns
        dates = DateEvidence()
        separators: Counter = Counter()
        references: set[str] = set()
        unique = True
        for _, record in self._data():
            for role in ("date", "posted_date"):
                if role in cols and cols[role] < len(record):
                    dates.add(record[cols[role]])
            for role in _MONEY_ROLES:
                if role in cols and cols[role] < len(record):
                    try:
                        sep = parse_amount(record[cols[role]]).decimal_separator
                    except ValueError:
                        continue
                    if sep:
                        separators[sep] += 1
            if unique and "reference" in cols and cols["reference"] < len(record):
                ref = record[cols["reference"]].strip()
                if ref:
                    unique = ref not in references
                    references.add(ref)
        self.date_order = self.layout.date_order or dates.order()
        self.decimal_separator = self.layout.decimal_separator or (
            separators.most_common(1)[0][0] if separators else "."
        )
        # A reference column becomes the external id only when it identifies rows: many
        # banks fill it with "NOTPROVIDED" or a batch number shared by several lines.
        self.references_usable = unique and bool(references)

    def rows(self) -> Iterator[StatementRow | LineError]:
        self._learn()
        for line, record in self._data():
            row = self._row(line, record)
            if row is not None:
                yield row

    def _cell(self, record: list[str], role: str) -> str:
        index = self.layout.columns.get(role)
        if index is None or index >= len(record):
            return ""
        return record[index].strip()

    def _amount(self, text: str, problems: list[str], what: str) -> Decimal | None:
        try:
            amount = parse_amount(text)
        except ValueError as exc:
            problems.append(f"{what}: {exc}" if what != "amount" else str(exc))
            return None
        if amount.decimal_separator and amount.decimal_separator != self.decimal_separator:
            problems.append(
                f"{what} {text!r} uses {amount.decimal_separator!r} as decimal separator, "
                f"the rest of the file {self.decimal_separator!r}"
            )
            return None
        return amount.value

    def _money(self, record: list[str], problems: list[str]) -> Decimal | None:
        cols = self.layout.columns
        if "amount" in cols:
            value = self._amount(self._cell(record, "amount"), problems, "amount")
            if value is not None and "direction" in cols:
                word = self._cell(record, "direction").lower()
                if word not in DIRECTION_WORDS:
                    problems.append(f"debit/credit indicator {word!r} is not one of {', '.join(DIRECTION_WORDS)}")
                    return None
                value = abs(value) * DIRECTION_WORDS[word]
            return value
        debit_text, credit_text = self._cell(record, "debit"), self._cell(record, "credit")
        if not debit_text and not credit_text:
            problems.append("amount is missing (debit and credit are both empty)")
            return None
        debit = self._amount(debit_text, problems, "debit") if debit_text else Decimal(0)
        credit = self._amount(credit_text, problems, "credit") if credit_text else Decimal(0)
        if debit is None or credit is None:
            return None
        if debit and credit:
            problems.append("both debit and credit are filled in")
            return None
        return abs(credit) - abs(debit)

    def _balance_only(self, record: list[str]) -> bool:
        """A "Beginning balance" line: a balance and no money moving (Bank of America)."""
        if "balance" not in self.layout.columns or not self._cell(record, "balance"):
            return False
        return not any(self._cell(record, role) for role in _MONEY_ROLES)

    def _row(self, line: int, record: list[str]) -> StatementRow | LineError | None:
        layout = self.layout
        problems: list[str] = []
        if len(record) != layout.width and not (
            len(record) > layout.width and not any(c.strip() for c in record[layout.width :])
        ):
            return LineError(line, f"expected {layout.width} fields, found {len(record)}")
        if self._balance_only(record):
            return None
        transaction_date = posted = None
        try:
            transaction_date = parse_date(self._cell(record, "date"), self.date_order)
        except ValueError as exc:
            problems.append(str(exc))
        posted_text = self._cell(record, "posted_date")
        if posted_text:
            try:
                posted = parse_date(posted_text, self.date_order)
            except ValueError as exc:
                problems.append(f"posted date: {exc}")
        amount = self._money(record, problems)
        if amount is not None and layout.invert_sign:
            amount = -amount
        currency = self._cell(record, "currency").upper()
        if currency and currency != self.currency:
            problems.append(f"currency {currency} is not the account's currency {self.currency}")
        payee = self._cell(record, "payee")
        description = self._cell(record, "description") or payee
        return finish_row(
            line,
            problems,
            transaction_date=transaction_date,
            amount=amount,
            description=description,
            posted_date=posted,
            merchant=payee or None,
            memo=self._cell(record, "memo"),
            external_id=self._cell(record, "reference") if self.references_usable else None,
            category_hint=self._cell(record, "category"),
        )
