"""Dates and amounts as banks write them, read exactly (no float, no guessing per row).

Dates: one rule for the whole file (API.md "Imports"): an order that some row rules out
is not used; where every row fits both day-first and month-first, `/` dates are
month-first and `.` (and `-`) dates day-first.

Amounts: decimal comma or point, thousands separators (`,` `.` space, apostrophe),
currency symbols or codes, and negatives as `-12.30`, `12.30-`, `(12.30)` or `12.30 DR`.
"""

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache

ORDERS = ("ymd", "dmy", "mdy")
_TIME_SUFFIX = re.compile(r"(?:[ T]\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?(?: ?[AaPp]\.?[Mm]\.?)?)$")
_NUMERIC = re.compile(r"^(\d{1,4})([./-])(\d{1,2})\2(\d{2,4})$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_DAY_MONTHNAME = re.compile(r"^(\d{1,2})[ .-]?([^\W\d_]{3,10})\.?[ .,-]*(\d{2}|\d{4})$")
_MONTHNAME_DAY = re.compile(r"^([^\W\d_]{3,10})\.? (\d{1,2}),? (\d{4})$")
_MONTHS = {
    # English, German, French, Dutch, Spanish, Italian abbreviations (first three letters, accents folded)
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10,
    "nov": 11, "dec": 12, "mai": 5, "okt": 10, "dez": 12, "mrz": 3, "maa": 3, "mei": 5, "fev": 2, "avr": 4,
    "jui": 7, "aou": 8, "ene": 1, "abr": 4, "ago": 8, "dic": 12, "gen": 1, "mag": 5, "giu": 6, "lug": 7,
    "set": 9, "ott": 10,
}  # fmt: skip
_FOLD = str.maketrans("äàâáéèêëíîïóôöúùûüç", "aaaaeeeeiiiooouuuuc")
MIN_YEAR, MAX_YEAR = 1900, 2099


def _year(text: str) -> int:
    value = int(text)
    if len(text) == 2:
        # Two-digit years on statements are this century (German savings banks write 15.01.24).
        return 2000 + value
    return value


def _valid(y: int, m: int, d: int) -> date | None:
    if not MIN_YEAR <= y <= MAX_YEAR:
        return None
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _strip_time(text: str) -> str:
    text = text.strip()
    return _TIME_SUFFIX.sub("", text).strip() if len(text) > 10 else text


def _month(name: str) -> int | None:
    return _MONTHS.get(name.lower().translate(_FOLD)[:3])


@dataclass(frozen=True)
class DateShape:
    """How one date string can be read: the orders it fits and its separator."""

    orders: frozenset[str]
    separator: str


# Statements repeat the same dates and amounts thousands of times; these are pure
# functions of the text, so a cache turns most rows into a dict lookup.
_CACHE = 65536


@lru_cache(maxsize=_CACHE)
def date_shape(text: str) -> DateShape | None:
    """The orders under which `text` is a real date; None when it is not a date at all."""
    text = _strip_time(text)
    if m := _COMPACT.match(text):
        ok = _valid(int(m[1]), int(m[2]), int(m[3]))
        return DateShape(frozenset({"ymd"}), "") if ok else None
    if m := _NUMERIC.match(text):
        a, sep, b, c = m[1], m[2], m[3], m[4]
        if len(a) == 4:
            return DateShape(frozenset({"ymd"}), sep) if _valid(int(a), int(b), int(c)) else None
        if len(a) > 2:
            return None
        y = _year(c)
        fits = set()
        if _valid(y, int(b), int(a)):
            fits.add("dmy")
        if _valid(y, int(a), int(b)):
            fits.add("mdy")
        return DateShape(frozenset(fits), sep) if fits else None
    if (m := _DAY_MONTHNAME.match(text)) and (month := _month(m[2])):
        return DateShape(frozenset(ORDERS), "named") if _valid(_year(m[3]), month, int(m[1])) else None
    if (m := _MONTHNAME_DAY.match(text)) and (month := _month(m[1])):
        return DateShape(frozenset(ORDERS), "named") if _valid(int(m[3]), month, int(m[2])) else None
    return None


@lru_cache(maxsize=_CACHE)
def parse_date(text: str, order: str) -> date:
    """Read `text` in the file's order; ValueError with a reason a person understands."""
    raw = text.strip()
    if not raw:
        raise ValueError("date is missing")
    shape = date_shape(raw)
    if shape is None:
        raise ValueError(f"{raw!r} is not a date")
    if order not in shape.orders:
        raise ValueError(f"{raw!r} does not fit the file's date format ({ORDER_LABELS[order]})")
    clean = _strip_time(raw)
    if m := _COMPACT.match(clean):
        return date(int(m[1]), int(m[2]), int(m[3]))
    if m := _NUMERIC.match(clean):
        a, b, c = m[1], m[3], m[4]
        if len(a) == 4:
            return date(int(a), int(b), int(c))
        return date(_year(c), int(b), int(a)) if order == "dmy" else date(_year(c), int(a), int(b))
    if (m := _DAY_MONTHNAME.match(clean)) and (month := _month(m[2])):
        return date(_year(m[3]), month, int(m[1]))
    m = _MONTHNAME_DAY.match(clean)
    return date(int(m[3]), _month(m[1]), int(m[2]))


ORDER_LABELS = {"ymd": "year-month-day", "dmy": "day-month-year", "mdy": "month-day-year"}


@dataclass
class DateEvidence:
    """What a pass over a date column learned: how many values fit each order."""

    total: int = 0
    fits: Counter = field(default_factory=Counter)
    separators: Counter = field(default_factory=Counter)

    def add(self, text: str) -> None:
        if not text.strip():
            return
        self.total += 1
        shape = date_shape(text)
        if shape is None:
            return
        self.fits.update(shape.orders)
        if shape.orders >= {"dmy", "mdy"} and shape.separator != "named":
            self.separators[shape.separator] += 1

    def order(self) -> str:
        """The file's order: the ones no row rules out, then the tie rule; when every
        order is ruled out by some row, the one most rows fit (the others are errors)."""
        if not self.fits:
            return "ymd"
        best = max(self.fits.values())
        candidates = [o for o in ORDERS if self.fits[o] == best]
        if len(candidates) == 1:
            return candidates[0]
        if "ymd" in candidates and len(candidates) == 3:
            # Only month-name dates: any order reads them the same.
            return "ymd"
        separator = self.separators.most_common(1)[0][0] if self.separators else "/"
        preferred = "mdy" if separator == "/" else "dmy"
        return preferred if preferred in candidates else candidates[0]


# --- amounts -------------------------------------------------------------------------

_CURRENCY = re.compile(r"(?i)(?:[$€£¥₹₽₩₪₫₺₴]|\b(?:usd|eur|gbp|chf|cad|aud|nzd|jpy|sek|nok|dkk|pln|czk|huf)\b|\bkr\b)")
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009']")
_DIGITS = re.compile(r"^\d+(?:[.,]\d+)*$")
MAX_AMOUNT = Decimal("9999999999999.99")


@dataclass(frozen=True)
class Amount:
    value: Decimal
    # The decimal separator this value proves (None when it has no decimals or is ambiguous).
    decimal_separator: str | None


@lru_cache(maxsize=_CACHE)
def parse_amount(text: str) -> Amount:
    """An amount as written on a statement; ValueError when it is not one."""
    raw = text.strip()
    if not raw:
        raise ValueError("amount is missing")
    s = _CURRENCY.sub("", raw).strip()
    negative = False
    if s.startswith("(") and s.endswith(")"):
        negative, s = True, s[1:-1].strip()
    upper = s.upper()
    if upper.endswith(("DR", "CR")) and len(s) > 2:
        negative, s = upper.endswith("DR"), s[:-2].strip()
    if s.endswith("-"):
        negative, s = True, s[:-1].strip()
    elif s.startswith("-"):
        negative, s = True, s[1:].strip()
    elif s.startswith("+"):
        s = s[1:].strip()
    s = _CURRENCY.sub("", s)
    s = _SPACES.sub("", s)
    if not s or not _DIGITS.match(s):
        raise ValueError(f"{raw!r} is not an amount")
    separator = None
    last_dot, last_comma = s.rfind("."), s.rfind(",")
    if last_dot >= 0 and last_comma >= 0:
        separator = "." if last_dot > last_comma else ","
    elif last_dot >= 0 or last_comma >= 0:
        sep = "." if last_dot >= 0 else ","
        decimals = len(s) - max(last_dot, last_comma) - 1
        # One separator followed by exactly three digits can only be grouping: money has
        # at most two decimals; a repeated separator is grouping as well.
        if s.count(sep) == 1 and decimals in (1, 2):
            separator = sep
        elif decimals != 3:
            raise ValueError(f"{raw!r} is not an amount")
    if separator:
        whole, _, frac = s.rpartition(separator)
        grouping = "," if separator == "." else "."
        if separator in whole or not re.match(r"^[1-9]\d{0,2}(?:[" + re.escape(grouping) + r"]\d{3})+$|^\d+$", whole):
            raise ValueError(f"{raw!r} is not an amount")
        if len(frac) > 2:
            raise ValueError(f"{raw!r} has more than two decimals")
        number = whole.replace(grouping, "") + "." + frac
    else:
        sep = "." if "." in s else ","
        if sep in s and not re.match(r"^[1-9]\d{0,2}(?:" + re.escape(sep) + r"\d{3})+$", s):
            raise ValueError(f"{raw!r} is not an amount")
        number = s.replace(sep, "")
    try:
        value = Decimal(number)
    except InvalidOperation:
        raise ValueError(f"{raw!r} is not an amount") from None
    if value > MAX_AMOUNT:
        raise ValueError(f"{raw!r} is too large")
    return Amount(-value if negative else value, separator)
