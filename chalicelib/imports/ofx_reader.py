"""OFX/QFX statements (SGML 1.x in any charset the header names, XML 2.x), bank and
credit-card, read with ofxtools. Each STMTTRN is converted on its own so that one bad
transaction is reported with its line instead of stopping the file at the first."""

import io
import re
from collections.abc import Iterator
from datetime import date
from typing import BinaryIO

from chalicelib.imports.rejections import ImportRejected, LineError
from chalicelib.imports.statement import StatementRow, finish_row

_STMTTRN = re.compile(rb"<STMTTRN>", re.IGNORECASE)
_STATEMENTS = ("STMTRS", "CCSTMTRS")


def _line_numbers(raw: bytes) -> list[int]:
    """Line of each <STMTTRN> in document order (the order ElementTree iterates)."""
    lines, last, count = [], 0, 1
    for m in _STMTTRN.finditer(raw):
        count += raw.count(b"\n", last, m.start())
        last = m.start()
        lines.append(count)
    return lines


def _ofx_date(text: str | None) -> date:
    # The calendar day as the bank wrote it: converting "20240115000000[+10]" to UTC
    # first would book the transaction on the 14th.
    value = (text or "").strip()
    if len(value) < 8 or not value[:8].isdigit():
        raise ValueError(f"{value!r} is not an OFX date")
    return date(int(value[:4]), int(value[4:6]), int(value[6:8]))


def _text(element, tag: str) -> str | None:
    child = element.find(tag)
    return child.text.strip() if child is not None and child.text else None


class OfxStatement:
    def __init__(self, source: BinaryIO, *, currency: str):
        from ofxtools.Parser import OFXTree

        raw = source.read()
        if b"</OFX>" not in raw.upper():
            raise ImportRejected("The OFX file is incomplete: it ends before </OFX>")
        tree = OFXTree()
        try:
            tree.parse(io.BytesIO(raw))
        except Exception as exc:  # ofxtools raises header, SGML and decoding errors of many types
            raise ImportRejected(f"The OFX file could not be read: {_reason(exc)}") from None
        root = tree.getroot()
        statements = [el for tag in _STATEMENTS for el in root.iter(tag)]
        if not statements:
            kinds = "an investment statement" if next(root.iter("INVSTMTRS"), None) is not None else "no statement"
            raise ImportRejected(f"The OFX file holds {kinds}; only bank and credit-card statements are imported")
        if len(statements) > 1:
            raise ImportRejected(
                f"The OFX file holds statements for {len(statements)} accounts; import one account per file"
            )
        curdef = _text(statements[0], "CURDEF")
        if curdef and curdef.upper() != currency:
            raise ImportRejected(f"The statement is in {curdef.upper()}, the account in {currency}")
        self._transactions = list(statements[0].iter("STMTTRN"))
        self._lines = _line_numbers(raw)

    def rows(self) -> Iterator[StatementRow | LineError]:
        from ofxtools.models.base import Aggregate

        for index, element in enumerate(self._transactions):
            line = self._lines[index] if index < len(self._lines) else 0
            problems: list[str] = []
            try:
                model = Aggregate.from_etree(element)
            except Exception as exc:
                yield LineError(line, f"transaction {_text(element, 'FITID') or index + 1}: {_reason(exc)}")
                continue
            posted = user_date = None
            try:
                posted = _ofx_date(_text(element, "DTPOSTED"))
                if _text(element, "DTUSER"):
                    user_date = _ofx_date(_text(element, "DTUSER"))
            except ValueError as exc:
                problems.append(str(exc))
            payee = model.name or (model.payee.name if getattr(model, "payee", None) is not None else None)
            row = finish_row(
                line,
                problems,
                transaction_date=user_date or posted,
                amount=model.trnamt,
                description=payee or model.memo,
                posted_date=posted,
                merchant=payee,
                memo=model.memo,
                external_id=model.fitid,
            )
            if row is not None:
                yield row


def _reason(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    if type(exc).__name__ in ("InvalidOperation", "ConversionSyntax"):
        return "an amount is not a number"
    return text.splitlines()[0][:300]
