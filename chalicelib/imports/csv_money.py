"""Which column is the money and which sign spending has, justified for the whole file.

A CSV statement can hold several numeric columns; only one reading of them is the money
moving. The candidates come from the header (names win) or from the values; a running
balance, where the file has one, decides between them: consecutive balances must differ
by the row's amount, in file order or in reverse. Where nothing decides, the file is
refused with the candidates named (MappingRequired) instead of guessed.
"""

import re
from dataclasses import dataclass, field
from decimal import Decimal

from chalicelib.imports.csv_layout import DIRECTION_WORDS
from chalicelib.imports.values import parse_amount

# A card statement's payments to the card: the rows that show which sign a file gives them.
_PAYMENT = re.compile(
    r"(?i)\b(payment|paymt|pymt|autopay|auto pay|thank you|zahlung|gutschrift|paiement|remboursement|betaling|"
    r"pago|pagamento|rimborso)\b"
)
OWED_ACCOUNTS = ("credit_card", "loan")


@dataclass(frozen=True)
class MoneyRule:
    """One reading of a record's money: an amount column (optionally with an indicator
    column), or a debit and a credit column."""

    amount: int | None = None
    debit: int | None = None
    credit: int | None = None
    direction: int | None = None
    because: str = "header"

    def columns(self) -> dict[str, int]:
        named = {"amount": self.amount, "debit": self.debit, "credit": self.credit, "direction": self.direction}
        return {role: i for role, i in named.items() if i is not None}

    def label(self, header: list[str] | None) -> str:
        def name(i: int) -> str:
            return header[i] if header and i < len(header) and header[i] else f"column {i + 1}"

        if self.amount is not None:
            return name(self.amount) + (f" with {name(self.direction)}" if self.direction is not None else "")
        return "/".join(name(i) for i in (self.debit, self.credit) if i is not None)

    def read(self, cell) -> tuple[Decimal, str | None]:
        """The record's money as the file signs it, and the sign marker it was written
        with; ValueError with a reason when the cells are not money."""
        if self.amount is not None:
            amount = parse_amount(cell(self.amount))
            if self.direction is not None:
                word = cell(self.direction).lower()
                if word not in DIRECTION_WORDS:
                    raise ValueError(f"debit/credit indicator {word!r} is not one of {', '.join(DIRECTION_WORDS)}")
                return abs(amount.value) * DIRECTION_WORDS[word], "indicator"
            return amount.value, amount.marker
        debit_text = cell(self.debit) if self.debit is not None else ""
        credit_text = cell(self.credit) if self.credit is not None else ""
        if not debit_text and not credit_text:
            raise ValueError("amount is missing (debit and credit are both empty)")
        debit = abs(parse_amount(debit_text).value) if debit_text else Decimal(0)
        credit = abs(parse_amount(credit_text).value) if credit_text else Decimal(0)
        if debit and credit:
            raise ValueError("both debit and credit are filled in")
        return credit - debit, "columns"


class _BalanceWalk:
    """Streams rows and counts where consecutive balances disagree with the amounts
    between them. Forward: a balance is the one before plus the amounts since. Reverse
    (newest first): the one before minus the amounts from it up to this row."""

    def __init__(self, sign: int, reverse: bool, credits_marked: bool = False):
        self.sign, self.reverse, self.credits_marked = sign, reverse, credits_marked
        self.previous: Decimal | None = None
        self.since = Decimal(0)
        self.pairs = 0
        self.bad: list[int] = []

    def add(self, line: int, amount: Decimal, marker: str | None, balance: Decimal | None) -> None:
        if self.credits_marked and marker not in ("+", "cr"):
            amount = -abs(amount)
        amount = amount * self.sign
        if balance is None:
            self.since += amount
            return
        if not self.reverse:
            self.since += amount
        if self.previous is not None:
            self.pairs += 1
            expected = self.previous - self.since if self.reverse else self.previous + self.since
            if expected != balance:
                self.bad.append(line)
        self.previous = balance
        self.since = amount if self.reverse else Decimal(0)


@dataclass
class _Evidence:
    """What the first pass saw of one candidate reading."""

    rule: MoneyRule
    walks: list[_BalanceWalk]
    unreadable: int = 0
    markers: dict = field(default_factory=dict)
    positive: int = 0
    negative: int = 0
    payments_positive: int = 0
    payments_negative: int = 0

    def best_walk(self) -> _BalanceWalk:
        return min(self.walks, key=lambda w: (len(w.bad), -w.pairs))


@dataclass(frozen=True)
class MoneyDecision:
    rule: MoneyRule
    sign: int  # multiplies the file's signed money into ours (money in positive)
    credits_marked: bool  # unmarked values are debits: the file marks only credits
    convention: str
    checked_against_balance: bool
    because: str


class MoneyLearner:
    """Sees every record once (the reader's first pass) and decides the money reading."""

    def __init__(self, candidates: list[MoneyRule], *, balance: int | None, account_type: str):
        self.balance = balance
        self.account_type = account_type
        self.evidence = [
            _Evidence(
                rule,
                [
                    _BalanceWalk(s, r, cm)
                    for s in (1, -1)
                    for r in (False, True)
                    for cm in ((False, True) if rule.amount is not None and rule.direction is None else (False,))
                ],
            )
            for rule in candidates
        ]
        self.balances_positive = 0
        self.balances_negative = 0
        # Payment rows only tell a card's sign convention: other files' texts are not read.
        self.reads_descriptions = account_type == "credit_card"

    def add(self, line: int, cell, description: str) -> None:
        balance = None
        if self.balance is not None and cell(self.balance):
            try:
                balance = parse_amount(cell(self.balance)).value
            except ValueError:
                balance = None
            if balance is not None:
                if balance > 0:
                    self.balances_positive += 1
                elif balance < 0:
                    self.balances_negative += 1
        payment = self.reads_descriptions and bool(_PAYMENT.search(description))
        for ev in self.evidence:
            try:
                value, marker = ev.rule.read(cell)
            except ValueError:
                ev.unreadable += 1
                continue
            ev.markers[marker] = ev.markers.get(marker, 0) + 1
            if value > 0:
                ev.positive += 1
                ev.payments_positive += payment
            elif value < 0:
                ev.negative += 1
                ev.payments_negative += payment
            if self.balance is not None:
                for walk in ev.walks:
                    walk.add(line, value, marker, balance)

    # --- the decision -------------------------------------------------------------

    def decide(self, header: list[str] | None, *, file_has_bad_lines: bool = False) -> MoneyDecision:
        """The reading to book. A file whose lines are broken anyway fails on those lines:
        its balances are then not held against it."""
        from chalicelib.imports.rejections import LineError, MappingRequired

        readable = [ev for ev in self.evidence if ev.unreadable == 0] or self.evidence
        checked = [ev for ev in readable if ev.best_walk().pairs > 0]
        if self.balance is not None and checked:
            agreeing = [ev for ev in checked if not ev.best_walk().bad]
            if agreeing:
                ev = next((e for e in agreeing if e.rule.because == "header"), agreeing[0])
                walk = ev.best_walk()
                sign = walk.sign
                owed = self.account_type in OWED_ACCOUNTS and self.balances_positive > self.balances_negative
                if owed:
                    sign = -sign  # the card's balance is what is owed: it grows with spending
                convention = "credits_marked" if walk.credits_marked else self._convention(ev, sign)
                return MoneyDecision(
                    ev.rule, sign, walk.credits_marked, convention, True,
                    "balance" if ev.rule.because != "header" else "header",
                )  # fmt: skip
            ev = next((e for e in checked if e.rule.because == "header"), None) or min(
                checked, key=lambda e: len(e.best_walk().bad)
            )
            bad = ev.best_walk().bad
            if file_has_bad_lines:
                return self._by_convention(ev, header)
            raise MappingRequired(
                f"The amounts in {ev.rule.label(header)} do not add up to the file's running balance at "
                f"{len(bad)} line(s) (first: line {bad[0]}), and no other reading of the file does; nothing was "
                "imported. Confirm the import with a mapping that names the amount column if the balance column "
                "is not a running balance",
                [self._candidate(e.rule, header) for e in readable],
                errors=[
                    LineError(n, "the balance does not follow from the previous balance and this amount") for n in bad
                ],
            )
        named = [ev for ev in readable if ev.rule.because == "header"]
        if len(named) == 1 or (named and len({ev.rule for ev in named}) == 1):
            return self._by_convention(named[0], header)
        if len(readable) == 1 and readable[0].rule.amount is not None:
            ev = readable[0]
            # A column found by its values alone is the money only when its signs say
            # which way it goes (or an indicator, or a card's payment rows, does).
            if ev.rule.direction is not None or (ev.positive and ev.negative) or self.account_type == "credit_card":
                return self._by_convention(ev, header)
        raise MappingRequired(
            "The file has more than one column that could be the amount and nothing in it tells which; "
            "confirm the import with a mapping that names the amount column",
            [self._candidate(ev.rule, header) for ev in readable],
        )

    def _candidate(self, rule: MoneyRule, header) -> dict:
        if rule.amount is not None:
            meaning = "signed amounts: negative is money out"
            if rule.direction is not None:
                meaning = "amounts with a debit/credit indicator"
            return {"role": "amount", "column": rule.label(header), "meaning": meaning,
                    "mapping": {k: _ref(header, v) for k, v in rule.columns().items()}}  # fmt: skip
        return {
            "role": "debit/credit",
            "column": rule.label(header),
            "meaning": f"{_ref(header, rule.debit)} is money out, {_ref(header, rule.credit)} money in",
            "mapping": {k: _ref(header, v) for k, v in rule.columns().items()},
        }

    def _convention(self, ev: _Evidence, sign: int) -> str:
        if ev.rule.direction is not None:
            return "indicator_column"
        if ev.rule.amount is None:
            return "debit_credit_columns"
        return "signed" if sign > 0 else "spending_positive"

    def _by_convention(self, ev: _Evidence, header) -> MoneyDecision:
        from chalicelib.imports.rejections import MappingRequired

        rule = ev.rule
        if rule.amount is None or rule.direction is not None:
            return MoneyDecision(rule, 1, False, self._convention(ev, 1), False, rule.because)
        markers = ev.markers
        marked_credit = markers.get("+", 0) + markers.get("cr", 0)
        marked_debit = markers.get("-", 0) + markers.get("dr", 0)
        unmarked = markers.get(None, 0)
        if marked_credit and not marked_debit and unmarked:
            # "+ £50.00" or "50.00 CR" beside plain figures: the plain ones are spending.
            return MoneyDecision(rule, 1, True, "credits_marked", False, rule.because)
        if self.account_type == "credit_card":
            if ev.payments_negative and not ev.payments_positive and ev.positive:
                return MoneyDecision(rule, -1, False, "spending_positive", False, "payment rows")
            if ev.payments_positive and not ev.payments_negative and ev.negative:
                return MoneyDecision(rule, 1, False, "signed", False, "payment rows")
            if not ev.payments_positive and not ev.payments_negative:
                if ev.positive and not ev.negative:
                    return MoneyDecision(rule, -1, False, "spending_positive", False, "credit card, all charges")
                if ev.negative > ev.positive:
                    return MoneyDecision(rule, 1, False, "signed", False, "credit card, most rows negative")
                if ev.positive > ev.negative:
                    return MoneyDecision(rule, -1, False, "spending_positive", False, "credit card, most rows positive")
            raise MappingRequired(
                "This credit-card file does not show which sign its charges have; confirm the import with a "
                "mapping (invert_sign: true when charges are positive)",
                _sign_candidates(rule, header, as_is="charges are negative", inverted="charges are positive"),
            )
        if (
            ev.positive >= 2
            and not ev.negative
            and not marked_debit
            and self.account_type not in ("savings", "investment")
        ):
            # Every amount positive on a current account, with nothing that marks a debit:
            # either a file of deposits only or one whose spending sign is lost (a "Type"
            # column of DEB/FPO codes). Not guessed.
            raise MappingRequired(
                "Every amount in this file is positive and nothing in it marks money going out; confirm the import "
                "with a mapping (invert_sign: true if they are spending, or a direction column)",
                _sign_candidates(rule, header, as_is="all money in", inverted="all money out"),
            )
        return MoneyDecision(rule, 1, False, "signed", False, rule.because)


def _sign_candidates(rule: MoneyRule, header, *, as_is: str, inverted: str) -> list[dict]:
    """The two readings of one amount column whose sign the file leaves open."""
    return [
        {"role": "sign", "column": rule.label(header), "meaning": meaning,
         "mapping": {"amount": _ref(header, rule.amount), "invert_sign": invert}}
        for meaning, invert in ((as_is, False), (inverted, True))
    ]  # fmt: skip


def _ref(header: list[str] | None, index: int | None):
    if index is None:
        return None
    if header and index < len(header) and header[index] and header.count(header[index]) == 1:
        return header[index]
    return index + 1
