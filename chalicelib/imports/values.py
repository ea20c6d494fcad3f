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
_COLON_YMD = re.compile(r"^(\d{4}):(\d{1,2}):(\d{1,2})$")  # 2012:03:01 (Danske Bank)
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_DAY_MONTHNAME = re.compile(r"^(\d{1,2})[ .-]*([^\W\d_]{3,10})\.?[ .,-]*(\d{4}|\d{1,2})$")
_MONTHNAME_DAY = re.compile(r"^([^\W\d_]{3,10})\.? (\d{1,2}),? (\d{4})$")
_MONTH_NAMES = {
    1: "jan january januar janvier januari enero gennaio gen ene janv",
    2: "feb february februar fevrier februari febrero febbraio fev fevr",
    3: "mar march marz maerz mrz mars maart marzo maa",
    4: "apr april avril abril aprile avr",
    5: "may mai mei mayo maggio mag",
    6: "jun june juni juin junio giugno giu",
    7: "jul july juli juillet julio luglio lug juil",
    8: "aug august aout augustus agosto ago",
    9: "sep sept september septembre septiembre settembre set",
    10: "oct october oktober octobre octubre ottobre okt ott",
    11: "nov november novembre noviembre",
    12: "dec december dezember decembre diciembre dicembre dez dic",
}
# Every name and abbreviation, accents folded; "jui" alone is June or July in French, so
# three-letter prefixes are not used, only the names banks write.
_MONTHS = {name: month for month, names in _MONTH_NAMES.items() for name in names.split()}
_FOLD = str.maketrans("äàâáéèêëíîïóôöúùûüç", "aaaaeeeeiiiooouuuuc")
_OFX_ZONE = re.compile(r"\[[^\]]*\]$")
_COMPACT_TIME = re.compile(r"^(\d{8})\d{4,6}(?:\.\d+)?$")
MIN_YEAR, MAX_YEAR = 1900, 2099


def _year(text: str) -> int:
    value = int(text)
    if len(text) <= 2:
        # Two-digit (and reckon's one-digit) years on statements are this century (German savings banks write 15.01.24).
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
    if len(text) <= 10:
        return text
    # OFX-style stamps in CSV and QIF files: 20091224120000[0:GMT], 20240115103000.000
    text = _OFX_ZONE.sub("", text).strip()
    if m := _COMPACT_TIME.match(text):
        return m[1]
    return _TIME_SUFFIX.sub("", text).strip()


def _month(name: str) -> int | None:
    folded = name.lower().translate(_FOLD).rstrip(".")
    return _MONTHS.get(folded)


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
    if m := _COLON_YMD.match(text):
        text = f"{m[1]}-{m[2]}-{m[3]}"
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
    if m := _COLON_YMD.match(clean):
        clean = f"{m[1]}-{m[2]}-{m[3]}"
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
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009\u2007']")
# Unicode minus and the dashes some exports print for it.
_MINUS = str.maketrans({"\u2212": "-", "\u2012": "-", "\u2013": "-", "\ufe63": "-", "\uff0d": "-"})
_DIGITS = re.compile(r"^\d+(?:[.,]\d+)*$")
MAX_AMOUNT = Decimal("9999999999999.99")


@dataclass(frozen=True)
class Amount:
    value: Decimal
    # The decimal separator this value proves (None when it has no decimals or is ambiguous).
    decimal_separator: str | None
    # How the text marked its sign, if it did: "-" (minus, parentheses, trailing minus),
    # "+", "dr" or "cr". A file that marks only credits ("+ £50.00", "50.00 CR") leaves
    # its debits unmarked; the reader decides that file-wide, not per value.
    marker: str | None = None


@lru_cache(maxsize=_CACHE)
def parse_amount(text: str) -> Amount:
    """An amount as written on a statement; ValueError when it is not one."""
    raw = text.strip()
    if not raw:
        raise ValueError("amount is missing")
    s = _CURRENCY.sub("", raw.translate(_MINUS)).strip()
    marker = None
    if s.startswith("(") and s.endswith(")"):
        marker, s = "-", s[1:-1].strip()
    upper = s.upper()
    if upper.endswith(("DR", "CR")) and len(s) > 2:
        marker, s = upper[-2:].lower(), s[:-2].strip()
    if s.endswith("-"):
        marker, s = "-", s[:-1].strip()
    elif s.startswith("-"):
        marker, s = "-", s[1:].strip()
    elif s.endswith("+"):
        marker, s = "+", s[:-1].strip()
    elif s.startswith("+"):
        marker, s = "+", s[1:].strip()
    s = _CURRENCY.sub("", s)
    s = _SPACES.sub("", s)
    if s[:1] in (".", ",") and s[1:].isdigit() and len(s) <= 3:
        s = "0" + s  # "$.23"
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
    negative = marker in ("-", "dr")
    return Amount(-value if negative else value, separator, marker)
