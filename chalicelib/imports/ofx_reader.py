"""OFX/QFX statements as banks really write them: SGML 1.x or XML 2.x, with or without the
header (or with blank lines or a BOM before it), in whatever charset the header names
(`1252`, `8859-1`, `ISO-8859-1`, `CP1252`, `UTF-8`, `NONE`…), on many lines or one,
bank and credit-card statements, several statements in one file.

The body is read by tag rather than through ofxtools' validating parser: ofxtools refuses
whole files for what real files do (text after a closing tag, lower-case tags, an
aggregate left open, a header it does not know, a statement with a transaction that
lacks NAME), and a file is then lost over a field we do not even import. Each STMTTRN is
read on its own, so one bad transaction is reported with its line instead of stopping
the file at the first; amounts go through Decimal, never float.
"""

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import BinaryIO

from chalicelib.imports.rejections import ImportRejected, LineError, MappingRequired, ReadReport, Skipped
from chalicelib.imports.statement import StatementRow, finish_row

_BODY = re.compile(rb"<OFX>", re.IGNORECASE)
_END = re.compile(rb"</OFX>", re.IGNORECASE)
_SGML_HEADER = re.compile(rb"^\s*([A-Z]+)\s*:\s*(\S*)\s*$", re.IGNORECASE | re.MULTILINE)
_XML_ENCODING = re.compile(rb"<\?xml[^>]*encoding\s*=\s*[\"']([A-Za-z0-9_.:-]+)[\"']", re.IGNORECASE)
_STATEMENT = re.compile(r"<(STMTRS|CCSTMTRS)>(.*?)(?:</\1>|(?=<(?:STMTRS|CCSTMTRS)>)|\Z)", re.IGNORECASE | re.DOTALL)
_TRANSACTION = re.compile(r"<(STMTTRN|STMTTRNP)>(.*?)(?:</\1>|(?=<STMTTRNP?>)|(?=</BANKTRANLIST)|\Z)", re.I | re.S)
_FIELD = re.compile(r"<([A-Za-z0-9.]+)>([^<]*)")
_AMOUNT = re.compile(r"^[+-]?(\d+(?:[.,]\d*)?|[.,]\d+)$")
_CHARSETS = {
    "1252": "cp1252", "cp1252": "cp1252", "windows-1252": "cp1252", "win1252": "cp1252",
    "8859-1": "cp1252", "iso-8859-1": "cp1252", "iso8859-1": "cp1252", "latin-1": "cp1252", "latin1": "cp1252",
    "iso-8859-15": "iso-8859-15", "8859-15": "iso-8859-15",
    "utf-8": "utf-8", "utf8": "utf-8", "unicode": "utf-8",
}  # fmt: skip
# Kinds of transaction whose money leaves the account, for statements that write every amount unsigned.
_OUT_TYPES = {"DEBIT", "PAYMENT", "CHECK", "ATM", "POS", "FEE", "SRVCHG", "DIRECTDEBIT", "CASH"}
_IN_TYPES = {"CREDIT", "DEP", "INT", "DIV", "DIRECTDEP"}
_CARD_TYPES = {"CREDITLINE", "CREDITCARD"}


def _decode(raw: bytes) -> tuple[str, str]:
    """The document as text, by the charset its header names (a mislabelled file falls
    back to Windows-1252, which reads every byte a bank writes)."""
    header = raw[: _BODY.search(raw).start()] if _BODY.search(raw) else raw[:2048]
    wanted = None
    if m := _XML_ENCODING.search(header):
        wanted = m[1].decode().lower()
    else:
        fields = {k.decode().upper(): v.decode("ascii", "replace").lower() for k, v in _SGML_HEADER.findall(header)}
        if fields.get("ENCODING") in ("utf-8", "unicode") or fields.get("CHARSET") in ("utf-8", "utf8"):
            wanted = "utf-8"
        elif fields.get("CHARSET") not in (None, "", "none"):
            wanted = fields["CHARSET"]
    encodings = [_CHARSETS.get(wanted, "utf-8")] if wanted else ["utf-8"]
    for encoding in [*encodings, "utf-8", "cp1252"]:
        try:
            return raw.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError):
            continue
    return raw.decode("latin-1"), "latin-1"


def _fields(block: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for tag, text in _FIELD.findall(block):
        value = html.unescape(text).strip()
        if value:
            values.setdefault(tag.upper(), value)
    return values


def _ofx_date(text: str | None) -> date:
    # The calendar day as the bank wrote it: converting "20240115000000[+10]" to UTC
    # first would book the transaction on the 14th.
    value = (text or "").strip()
    if len(value) < 8 or not value[:8].isdigit():
        raise ValueError(f"{value!r} is not an OFX date" if value else "date is missing")
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:8]))
    except ValueError:
        raise ValueError(f"{value!r} is not a date") from None


def _ofx_amount(text: str | None, warnings: list[str], line: int) -> Decimal:
    value = (text or "").strip().replace(" ", "")
    if not value:
        raise ValueError("amount is missing")
    if not _AMOUNT.match(value):
        raise ValueError(f"amount {value!r} is not a number")
    try:
        amount = Decimal(value.replace(",", "."))
    except InvalidOperation:
        raise ValueError(f"amount {value!r} is not a number") from None
    rounded = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    if rounded != amount:
        warnings.append(f"line {line}: amount {value} has more than two decimals; booked as {rounded}")
    return rounded


@dataclass
class _Statement:
    kind: str  # STMTRS (bank) or CCSTMTRS (card)
    account_id: str | None
    account_type: str | None
    currency: str | None
    transactions: list[tuple[int, str, bool]]  # (line, block, pending)

    def describe(self) -> dict:
        kind = self.account_type or ("CREDITCARD" if self.kind == "CCSTMTRS" else None)
        return {"account": self.account_id, "type": kind, "transactions": len(self.transactions)}


def _line_at(text: str, offsets: list[int], position: int) -> int:
    # offsets holds the position of every newline: bisect gives the 1-based line.
    from bisect import bisect_right

    return bisect_right(offsets, position) + 1


class OfxStatement:
    def __init__(self, source: BinaryIO, *, account: dict, mapping: dict | None = None):
        raw = source.read().lstrip(b"\xef\xbb\xbf \t\r\n\x00")
        if not _END.search(raw):
            raise ImportRejected("The OFX file is incomplete: it ends before </OFX>")
        text, encoding = _decode(raw)
        self.account = account
        self.report = ReadReport(layout={"format": "ofx", "encoding": encoding})
        newlines = [m.start() for m in re.finditer("\n", text)]
        statements = []
        for m in _STATEMENT.finditer(text):
            body = m[2]
            head = _fields(re.split("<BANKTRANLIST>", body, maxsplit=1, flags=re.IGNORECASE)[0])
            transactions = [
                (_line_at(text, newlines, m.start(2) + t.start()), t[2], t[1].upper() == "STMTTRNP")
                for t in _TRANSACTION.finditer(body)
            ]
            statements.append(
                _Statement(m[1].upper(), head.get("ACCTID"), head.get("ACCTTYPE"), head.get("CURDEF"), transactions)
            )
        if not statements:
            kinds = "an investment statement" if re.search("<INVSTMTRS>", text, re.I) else "no statement"
            raise ImportRejected(f"The OFX file holds {kinds}; only bank and credit-card statements are imported")
        self.statement = self._choose(statements, (mapping or {}).get("account"))
        currency = account["currency"]
        if self.statement.currency and self.statement.currency.upper() != currency:
            raise ImportRejected(f"The statement is in {self.statement.currency.upper()}, the account in {currency}")
        self.report.layout |= {
            "statement": self.statement.describe(),
            "statements_in_file": len(statements),
            "date": "DTUSER, else DTPOSTED",
        }

    def _choose(self, statements: list[_Statement], wanted: str | None) -> _Statement:
        """The account's statement: the one the mapping names, the one whose number or type
        matches the account, or the only one with transactions."""
        if wanted:
            chosen = [s for s in statements if (s.account_id or "") == wanted]
            if not chosen:
                raise ImportRejected(f"The OFX file holds no statement for account {wanted!r}")
            return chosen[0]
        if len(statements) == 1:
            return statements[0]
        masked = (self.account.get("account_number_masked") or "").strip()
        digits = "".join(c for c in masked if c.isdigit())[-4:]
        if digits:
            by_number = [s for s in statements if s.account_id and s.account_id.endswith(digits)]
            if len(by_number) == 1:
                return by_number[0]
        with_rows = [s for s in statements if s.transactions]
        if len(with_rows) == 1:
            return with_rows[0]
        card = self.account.get("type") == "credit_card"
        by_type = [
            s for s in with_rows if (s.kind == "CCSTMTRS" or (s.account_type or "").upper() in _CARD_TYPES) == card
        ]
        if card and len(by_type) == 1:
            return by_type[0]
        if not card:
            wanted_type = {"savings": "SAVINGS", "checking": "CHECKING"}.get(self.account.get("type"))
            typed = [s for s in by_type if (s.account_type or "").upper() == wanted_type]
            if len(typed) == 1:
                return typed[0]
        raise MappingRequired(
            f"The OFX file holds statements for {len(with_rows)} accounts and none of them is clearly this account's; "
            "confirm the import with a mapping that names the statement's account",
            [
                {
                    "role": "statement",
                    "column": s.account_id,
                    "meaning": s.describe(),
                    "mapping": {"account": s.account_id},
                }
                for s in with_rows
            ],
            layout=self.report.layout,
        )

    def rows(self) -> Iterator[StatementRow | LineError | Skipped]:
        parsed = [(line, _fields(block), pending) for line, block, pending in self.statement.transactions]
        types = {f.get("TRNTYPE", "").upper() for _, f, _ in parsed}
        unsigned = all(not (f.get("TRNAMT") or "").strip().startswith("-") for _, f, _ in parsed)
        # A statement that writes every amount unsigned but says DEBIT/CREDIT: the type is the sign.
        by_type = unsigned and bool(types & _OUT_TYPES) and bool(types & _IN_TYPES)
        self.report.layout["sign_convention"] = "transaction_type" if by_type else "signed"
        for line, f, pending in parsed:
            problems: list[str] = []
            posted = user_date = amount = None
            try:
                posted = _ofx_date(f.get("DTPOSTED"))
            except ValueError as exc:
                problems.append(str(exc))
            if f.get("DTUSER"):
                try:
                    user_date = _ofx_date(f["DTUSER"])
                except ValueError:
                    user_date = None
            try:
                amount = _ofx_amount(f.get("TRNAMT"), self.report.warnings, line)
                if by_type and f.get("TRNTYPE", "").upper() in _OUT_TYPES:
                    amount = -abs(amount)
            except ValueError as exc:
                problems.append(f"transaction {f.get('FITID') or line}: {exc}")
            name = f.get("NAME") or f.get("PAYEE")
            row = finish_row(
                line,
                problems,
                transaction_date=user_date or posted,
                amount=amount,
                description=name,
                posted_date=posted,
                merchant=name,
                memo=f.get("MEMO"),
                external_id=f.get("FITID"),
                status="pending" if pending else "posted",
                fallbacks=(
                    f.get("CHECKNUM") and f"Check {f['CHECKNUM']}",
                    f.get("REFNUM"),
                    f.get("TRNTYPE") and f["TRNTYPE"].title(),
                ),
            )
            if row is not None:
                yield row
            else:
                self.report.skipped.append(Skipped(line, "zero amount"))
