"""Where a CSV statement keeps what: delimiter, preamble, header and the column of each
role, read from the header names banks use (English, German, French, Dutch, Spanish,
Italian) and, for files without a header or with unknown names, from the values."""

import csv
import itertools
import re
import unicodedata
from dataclasses import dataclass, field

from chalicelib.imports.rejections import ImportRejected
from chalicelib.imports.values import date_shape, parse_amount

DELIMITERS = (",", ";", "\t", "|")
ROLES = (
    "date",
    "posted_date",
    "description",
    "payee",
    "memo",
    "amount",
    "debit",
    "credit",
    "direction",
    "category",
    "reference",
    "balance",
    "currency",
    "type",
    "status",
)
_ALIASES: dict[str, tuple[str, ...]] = {
    "date": (
        "data operacji", "data transakcji", "data lancamento", "data movimento", "dato", "bokforingsdag", "paivamaara",
        "kirjauspaiva", "datum transakce", "datum zauctovani",
        "дата", "дата операции", "дата совершения операции", "дата транзакции",
        "date", "transaction date", "trans date", "txn date", "booking date", "buchungstag", "buchung",
        "buchungsdatum", "datum", "date operation", "date de l operation", "date d operation", "fecha",
        "fecha operacion", "data", "data operazione", "transaktionsdatum", "started date", "boekdatum",
        "date of transaction", "transaction posted date",
    ),
    "posted_date": (
        "дата обработки", "дата обработки операции", "дата списания", "дата проводки",
        "post date", "posted date", "posting date", "valuta", "valutadatum", "value date", "date valeur",
        "date de valeur", "wertstellung", "fecha valor", "data valuta", "rentedatum", "settlement date",
        "completed date",
    ),
    "description": (
        "descricao", "historico", "opis", "opis operacji", "tytul", "tekst", "beskrivelse", "selite", "popis", "zprava",
        "meddelande", "rubrik",
        "описание", "описание операции", "основание", "назначение платежа", "содержание операции",
        "description", "transaction description", "narrative", "verwendungszweck", "libelle", "libelle operation",
        "libelle de l operation", "omschrijving", "naam omschrijving", "concepto", "descripcion", "descrizione",
        "text", "purpose", "transaction details", "particulars", "bezeichnung", "vorgang", "dettagli",
    ),
    "payee": (
        "nadawca odbiorca", "kontrahent", "mottaker", "modtager", "saaja maksaja", "protistrana",
        "получатель", "контрагент",
        "payee", "name", "merchant", "merchant name", "counterparty", "beguenstigter zahlungspflichtiger",
        "begunstigter zahlungspflichtiger", "auftraggeber empfanger", "auftraggeber empfaenger", "empfanger",
        "zahlungsempfanger", "zahlungspflichtige", "beneficiary", "beneficiaire", "tegenpartij", "naam",
        "payee name",
    ),
    "memo": (
        "memo", "notes", "note", "buchungstext", "mitteilung", "mededelingen", "additional information", "info",
        "comment", "remarks", "umsatztyp",
    ),
    "amount": (
        "valor", "kwota operacji", "castka", "beløp", "beløb", "maara", "summa", "iznos", "osszeg",
        "сумма", "сумма в валюте счета", "сумма пересчитанная в валюту счета", "сумма в рублях",
        "amount", "betrag", "montant", "bedrag", "importe", "importo", "transaction amount", "umsatz", "value",
        "sum", "belopp", "kwota",
    ),
    "debit": (
        "расход", "списание", "списания", "дебет",
        "debit", "debit amount", "debits", "withdrawal", "withdrawals", "withdrawal amount", "money out",
        "paid out", "soll", "ausgang", "ausgaben", "debet", "cargo", "addebiti", "uscite",
    ),
    "credit": (
        "приход", "поступление", "поступления", "кредит",
        "credit", "credit amount", "credits", "deposit", "deposits", "deposit amount", "money in", "paid in",
        "haben", "eingang", "einnahmen", "abono", "accrediti", "entrate",
    ),
    "direction": (
        "af bij", "debit credit", "credit debit", "dr cr", "cr dr", "soll haben", "s h", "credit debit indicator",
        "debit credit indicator", "d c", "c d", "cdi", "creditdebet", "credit debet", "debet credit", "bij af",
        "sign", "vorzeichen", "sens", "signe", "indicator",
    ),
    # Text about the kind of transaction: the description of a row that has none, and a
    # debit/credit indicator when its values are only those words.
    "type": ("details", "type", "transaction type", "trans type", "buchungsart", "typ", "type operation", "tipo"),
    "status": (
        "статус", "status", "state", "transaction status", "booking status", "buchungsstatus", "statut", "estado"),
    "category": (
        "категория", "category", "kategorie", "categorie", "categoria", "subcategory", "kategori", "rubrik"),
    "reference": (
        "код авторизации", "номер документа",
        "reference", "ref", "transaction id", "id", "fitid", "reference number", "referenz", "kundenreferenz",
        "kundenreferenz end to end", "transaction reference", "transaction number", "bank reference",
    ),
    "balance": (
        "saldo po operacji", "zustatek", "saldo disponivel",
        "остаток", "баланс",
        "balance", "running bal", "running balance", "saldo", "solde", "kontostand", "available balance",
        "balance after", "saldo nach buchung", "new balance", "ledger balance", "account balance", "bal",
        "saldo dopo", "solde apres", "closing balance",
    ),
    "currency": (
        "валюта счета", "currency", "wahrung", "waehrung", "devise", "moneda", "valuta"),
}  # fmt: skip
# Headers that begin like an alias but name another currency's figure: never that role.
_NOT_ROLES = {"сумма операции", "сумма в валюте операции", "валюта операции", "amount in original currency"}
_IGNORED: set[str] = set()
DIRECTION_WORDS = {
    "af": -1, "bij": 1, "debit": -1, "credit": 1, "dr": -1, "cr": 1, "d": -1, "c": 1, "db": -1, "s": -1, "h": 1,
    "soll": -1, "haben": 1, "+": 1, "-": -1, "dbit": -1, "crdt": 1, "withdrawal": -1, "deposit": 1,
    "debito": -1, "credito": 1, "debet": -1, "lastschrift": -1, "gutschrift": 1, "k": 1,
}  # fmt: skip
# Headers of columns that hold numbers which are never money moving: a check number, the
# last digits of a card, a running balance (its own role), a row id.
_NEVER_AMOUNT = re.compile(
    r"^(check|cheque|chk|scheck|card|karte|carte|tarjeta|carta|account|konto|compte|iban|bic|sort|bsb|routing|"
    r"id|no|nr|number|seq|sequence|line|row|zeile|index|ref|serial|batch|mcc|time|zeit|heure)\b"
)
_CURRENCY_CODE = re.compile(r"^[A-Z]{3}$")
SAMPLE_LINES = 60


def normalize_header(text: str) -> str:
    # Accents folded away (Libellé, Begünstigter), letters of other scripts kept (Сумма).
    decomposed = unicodedata.normalize("NFKD", text)
    folded = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return " ".join(re.sub(r"[\W_]+", " ", folded).split())


def role_of(header: str) -> str | None:
    name = normalize_header(header)
    if not name:
        return None
    for role, aliases in _ALIASES.items():
        if name in aliases:
            return role
    # "Amount (EUR)", "Betrag in EUR", "Zahlungsempfänger*in": an alias followed by more words.
    best = None
    for role, aliases in _ALIASES.items():
        for alias in aliases:
            if name.startswith(alias + " ") and (best is None or len(alias) > best[1]):
                best = (role, len(alias))
    return best[0] if best else None


@dataclass
class Layout:
    delimiter: str
    first_record: int  # index of the first data record (after preamble and header)
    columns: dict[str, int]  # every role but the money, which `money` holds
    width: int
    header: list[str] | None = None
    date_order: str | None = None
    decimal_separator: str | None = None
    invert_sign: bool = False
    # The readings of the money this file allows, best first; the reader's first pass
    # picks one (csv_money.MoneyLearner).
    money: list = field(default_factory=list)
    because: dict[str, str] = field(default_factory=dict)
    from_mapping: bool = False
    # Rows run longer than the header (free text split over extra fields): the extra
    # fields belong to the last column.
    fold_extra: bool = False

    def column_name(self, index: int):
        if self.header and index < len(self.header) and self.header[index]:
            return self.header[index]
        return index + 1

    def describe(self) -> dict:
        return {
            "delimiter": self.delimiter,
            "has_header": self.header is not None,
            "header_line": self.first_record if self.header is not None else None,
            "columns": {
                role: {"column": self.column_name(i), "because": self.because.get(role, "header")}
                for role, i in sorted(self.columns.items())
            },
        }


def _records(lines: list[str], delimiter: str) -> list[list[str]]:
    return list(csv.reader(lines, delimiter=delimiter))


def _is_blank(record: list[str]) -> bool:
    return not any(cell.strip() for cell in record)


def _is_transaction(record: list[str]) -> bool:
    cells = [c.strip() for c in record if c.strip()]
    has_date = any(date_shape(c) for c in cells)
    return has_date and any(_is_amount(c) for c in cells if not date_shape(c))


def _is_amount(cell: str) -> bool:
    try:
        parse_amount(cell)
    except ValueError:
        return False
    return True


def _run_start(records: list[list[str]]) -> tuple[int, int, int]:
    """(start, width, score) of the table in a sample: the field count shared by the most
    records holding a date and an amount (preamble lines of account details have neither
    both), starting at its header when the line before the first such record is one."""
    widths: dict[int, list[int]] = {}
    for i, record in enumerate(records):
        if len(record) >= 2 and _is_transaction(record):
            widths.setdefault(len(record), []).append(i)
    if not widths:
        # A table without one dated amount: still a table, so that the answer can name
        # the columns it has and ask for a mapping.
        for i, record in enumerate(records):
            if len(record) >= 2 and not _is_blank(record):
                widths.setdefault(len(record), []).append(i)
        if not widths:
            return 0, 0, 0
        width = max(widths, key=lambda w: (len(widths[w]), w))
        return widths[width][0], width, 0
    width = max(widths, key=lambda w: (len(widths[w]), w))
    first = widths[width][0]

    def fits(i: int) -> bool:
        # A header may carry a trailing delimiter its rows do not (Lloyds: "…,Balance,").
        record = records[i]
        return len(record) == width or (len(record) > width and not any(c.strip() for c in record[width:]))

    # Walk back over rows of the table's width that hold no dated amount ("Pending" rows
    # above the first booked one) to the header, if the table has one.
    start = first
    i = first - 1
    while i >= 0 and (_is_blank(records[i]) or fits(i)):
        if not _is_blank(records[i]):
            start = i
            if any(role_of(c) for c in records[i]) and not any(_looks_like_data(c) for c in records[i]):
                break
        i -= 1
    # A dated amount above the table's first row, on a longer record (free text with an
    # unquoted delimiter), is a transaction too: it must not pass for preamble.
    if start > 0 and len(records[start - 1]) > width and _is_transaction(records[start - 1]):
        start -= 1
    return start, width, len(widths[width])


def fold_record(record: list[str], width: int) -> list[str]:
    if len(record) <= width:
        return record
    return [*record[: width - 1], " ".join(c.strip() for c in record[width - 1 :] if c.strip())]


def _named_header(records: list[list[str]]) -> tuple[int, int] | None:
    """(index, width) of a header that names a date and the money, for tables whose rows
    run longer than their header (free text split over extra fields)."""
    for i, record in enumerate(records[:30]):
        cells = [c.strip() for c in record]
        while cells and not cells[-1]:
            cells.pop()
        roles = {role_of(c) for c in cells}
        if "date" in roles and roles & {"amount", "debit", "credit"} and len(cells) >= 3:
            return i, len(cells)
    return None


def _looks_like_data(cell: str) -> bool:
    value = cell.strip()
    return bool(value) and (date_shape(value) is not None or _is_amount(value))


def _column_values(records: list[list[str]], index: int) -> list[str]:
    return [r[index].strip() for r in records if index < len(r) and r[index].strip()]


def _all_dates(values: list[str]) -> bool:
    return bool(values) and all(date_shape(v) for v in values)


def _mostly_dates(values: list[str]) -> bool:
    # A named date column keeps its role with a few bad values: those rows are reported.
    return sum(1 for v in values if date_shape(v)) * 2 >= len(values)


def _all_amounts(values: list[str]) -> bool:
    if not values:
        return False
    try:
        for v in values:
            parse_amount(v)
    except ValueError:
        return False
    return True


def _integer_only(values: list[str]) -> bool:
    return all(re.fullmatch(r"[+-]?\d+", v.replace(" ", "")) for v in values)


def _monotonic_or_constant(values: list[str]) -> bool:
    """Row ids, sequence and check numbers climb; a card suffix or an account number
    stays the same: neither is money moving."""
    if len(values) < 3:
        return False
    numbers = [parse_amount(v).value for v in values]
    if len(set(numbers)) == 1:
        return True
    pairs = list(itertools.pairwise(numbers))
    return all(a < b for a, b in pairs) or all(a > b for a, b in pairs)


def _numeric_candidates(records: list[list[str]], width: int, taken: set[int], header) -> tuple[list[int], list[int]]:
    """(dense, sparse) columns whose every value is an amount and that could be money;
    integer-only columns are kept apart (money only as one of a debit/credit pair)."""
    rows = [r for r in records if not _is_blank(r)]
    dense, sparse = [], []
    for i in range(width):
        if i in taken:
            continue
        if header and i < len(header) and _NEVER_AMOUNT.match(normalize_header(header[i]) or "-"):
            continue
        values = _column_values(rows, i)
        if not values or not _all_amounts(values):
            continue
        if len(values) == len(rows) and not _monotonic_or_constant(values) and not _integer_only(values):
            dense.append(i)
        elif not (len(values) >= 3 and len({parse_amount(v).value for v in values}) == 1):
            sparse.append(i)
    return dense, sparse


def _filled(record: list[str], index: int) -> bool:
    if index >= len(record) or not record[index].strip():
        return False
    try:
        return parse_amount(record[index]).value != 0
    except ValueError:
        return True


def _pairs(records: list[list[str]], columns: list[int]) -> list[tuple[int, int]]:
    """Column pairs where every row fills exactly one of the two (the other empty or 0)."""
    rows = [r for r in records if not _is_blank(r)]
    found = []
    for a_index, a in enumerate(columns):
        for b in columns[a_index + 1 :]:
            if rows and all(_filled(r, a) != _filled(r, b) for r in rows):
                found.append((a, b))
    return found


def _direction_column(records: list[list[str]], width: int, taken: set[int]) -> int | None:
    """A column whose values are only debit/credit words, with both kinds present."""
    for i in range(width):
        if i in taken:
            continue
        values = [v.lower() for v in _column_values(records, i)]
        if values and len(values) == len([r for r in records if not _is_blank(r)]):
            signs = {DIRECTION_WORDS.get(v) for v in values}
            if None not in signs and signs == {1, -1}:
                return i
    return None


def _unsigned(records: list[list[str]], index: int) -> bool:
    for v in _column_values(records, index):
        try:
            if parse_amount(v).marker is not None:
                return False
        except ValueError:
            return False
    return True


def _money_candidates(columns: dict[str, int], records, width: int, header) -> list:
    """Every reading of the money the file allows; header-named ones first."""
    from chalicelib.imports.csv_money import MoneyRule

    taken = {i for role, i in columns.items() if role not in ("amount", "debit", "credit", "direction", "type")}
    direction = columns.get("direction")
    if direction is None and "type" in columns:
        values = [v.lower() for v in _column_values(records, columns["type"])]
        if values and all(v in DIRECTION_WORDS for v in values):
            direction = columns["type"]
    named = []
    if "amount" in columns:
        amount = columns["amount"]
        use_direction = None
        if _unsigned(records, amount):
            use_direction = direction
            if use_direction is None:
                use_direction = _direction_column(records, width, taken | {amount})
        named.append(MoneyRule(amount=amount, direction=use_direction))
    if "debit" in columns or "credit" in columns:
        named.append(MoneyRule(debit=columns.get("debit"), credit=columns.get("credit")))
    taken |= {i for role, i in columns.items() if role in ("amount", "debit", "credit", "direction")}
    dense, sparse = _numeric_candidates(records, width, taken, header)
    pairs = _pairs(records, sorted(dense + sparse))
    paired = {i for pair in pairs for i in pair}
    found = []
    for i in dense:
        if i in paired:
            continue
        found_direction = direction
        if found_direction is None and _unsigned(records, i):
            found_direction = _direction_column(records, width, taken | {i})
        if found_direction is not None:
            # Unsigned amounts beside a debit/credit column: the column is their sign.
            found.append(MoneyRule(amount=i, direction=found_direction, because="values"))
        else:
            found.append(MoneyRule(amount=i, because="values"))
    for a, b in pairs:
        found.append(MoneyRule(debit=a, credit=b, because="values"))
        found.append(MoneyRule(debit=b, credit=a, because="values"))
    return named + found


def _infer_from_values(records: list[list[str]], width: int, known: dict[str, int]) -> dict[str, int]:
    """Roles other than money for columns the header did not name, from what the sample rows hold."""
    columns = dict(known)
    taken = set(columns.values())
    for i in range(width):
        values = _column_values(records, i)
        if "date" not in columns and i not in taken and _all_dates(values):
            columns["date"] = i
            taken.add(i)
    if not any(r in columns for r in ("description", "payee", "memo")):
        best, best_len = None, 0.0
        for i in range(width):
            if i in taken:
                continue
            values = _column_values(records, i)
            texts = [v for v in values if not _looks_like_data(v)]
            if not texts or {v.lower() for v in texts} <= set(DIRECTION_WORDS):
                continue
            if len(texts) >= 3 and len(set(texts)) == 1:
                continue  # the account number or name on every row
            average = sum(len(v) for v in texts) / len(records)
            if average > best_len:
                best, best_len = i, average
        if best is not None and best_len >= 2:
            columns["description"] = best
    return columns


def _verify(columns: dict[str, int], records: list[list[str]]) -> dict[str, int]:
    """Drop roles whose values contradict their name (German "Valuta" is a date, Dutch a currency)."""
    checked = {}
    for role, i in columns.items():
        values = _column_values(records, i)
        if role in ("date", "posted_date") and values and not _mostly_dates(values):
            if role == "posted_date" and all(_CURRENCY_CODE.match(v) for v in values):
                checked.setdefault("currency", i)
            continue
        if role == "currency" and values and not all(_CURRENCY_CODE.match(v) for v in values):
            if _all_dates(values):
                checked.setdefault("posted_date", i)
            continue
        if role == "direction" and values and not all(v.lower() in DIRECTION_WORDS for v in values):
            checked.setdefault("type", i)
            continue
        checked.setdefault(role, i)
    if "date" not in checked and "posted_date" in checked:
        checked["date"] = checked.pop("posted_date")
    return checked


def _header_columns(header: list[str]) -> dict[str, int]:
    """Roles by header name: a name that is an alias outright wins over one that only
    starts with an alias ("Сумма в валюте счета" over "Сумма в валюте операции")."""
    columns: dict[str, int] = {}
    exact = {alias: role for role, aliases in _ALIASES.items() for alias in aliases}
    for i, name in enumerate(header):
        role = exact.get(normalize_header(name))
        if role and role not in columns and role not in _IGNORED:
            columns[role] = i
    for i, name in enumerate(header):
        if i in columns.values() or normalize_header(name) in _NOT_ROLES:
            continue
        role = role_of(name)
        if role and role not in columns and role not in _IGNORED:
            columns[role] = i
    return columns


def _is_header(first: list[str], data: list[list[str]]) -> bool:
    if not any(c.strip() for c in first) or any(_looks_like_data(c) for c in first):
        return False
    if any(role_of(c) for c in first):
        return True
    # No known name: still a header when a column that holds dates or amounts below has
    # words here (an unknown language), not data.
    for i, cell in enumerate(first):
        values = _column_values(data, i)
        if cell.strip() and values and (_all_dates(values) or _all_amounts(values)):
            return True
    return False


def detect_layout(sample: list[str]) -> Layout:
    """The layout of a CSV statement from its first lines; ImportRejected when the text
    is not a table of dated amounts."""
    best = None
    for delimiter in DELIMITERS:
        records = _records(sample, delimiter)
        start, width, score = _run_start(records)
        if width and (best is None or (score, width) > (best[3], best[2])):
            best = (delimiter, start, width, score, records)
    if best is None:
        raise ImportRejected(
            "The file is not a recognized statement format: expected CSV (comma, semicolon, tab or pipe "
            "separated), OFX/QFX or QIF"
        )
    delimiter, start, width, _, records = best
    named_header = _named_header(records)
    fold = named_header is not None and named_header[1] < width and named_header[0] < start
    if fold:
        start, width = named_header
        records = [fold_record(r, width) for r in records]
    first = records[start][:width] if len(records[start]) > width else records[start]
    following = [r for r in records[start + 1 :] if len(r) == width and not _is_blank(r)]
    header = [c.strip() for c in first] if _is_header(first, following) else None
    data = [r for r in records[start + (1 if header else 0) :] if len(r) == width and not _is_blank(r)]
    data = [r for r in data if _is_transaction(r)] or data
    named = _verify(_header_columns(header), data) if header else {}
    columns = _verify(_infer_from_values(data, width, named), data)
    because = {role: ("header" if named.get(role) == i else "values") for role, i in columns.items()}
    money = _money_candidates(columns, data, width, header)
    other = {role: i for role, i in columns.items() if role not in ("amount", "debit", "credit", "direction")}
    layout = Layout(delimiter, start + (1 if header else 0), other, width, header, money=money, because=because)
    layout.fold_extra = fold
    require_roles(layout)
    return layout


def require_roles(layout: Layout) -> None:
    missing = []
    if "date" not in layout.columns:
        missing.append("a date")
    if not layout.money:
        missing.append("an amount (or debit and credit)")
    if missing:
        found = f" (columns found: {', '.join(layout.header)})" if layout.header else ""
        raise ImportRejected(
            f"Could not find {' and '.join(missing)} column in this CSV file{found}; "
            "import it again with a column mapping"
        )


_MONEY_KEYS = ("amount", "debit", "credit", "direction", "invert_sign")


def _resolve(layout: Layout, ref, role: str) -> int:
    if isinstance(ref, int):
        index = ref - 1
    else:
        names = [normalize_header(h) for h in layout.header or []]
        if normalize_header(ref) not in names:
            raise ImportRejected(f"The mapping names a column {ref!r} for {role} that is not in the file's header")
        index = names.index(normalize_header(ref))
    if index >= layout.width:
        raise ImportRejected(f"The mapping puts {role} in column {index + 1}; the file has {layout.width} columns")
    return index


def apply_mapping(sample: list[str], mapping: dict) -> Layout:
    """The layout a saved column mapping describes (names or 1-based positions). A
    mapping that names only the money (what a mapping_required answer asks for) keeps
    everything else as detected."""
    from chalicelib.imports.csv_money import MoneyRule

    if mapping.get("date") is None and any(mapping.get(k) is not None for k in ("amount", "debit", "credit")):
        layout = detect_layout(sample)
        money_roles = ("amount", "debit", "credit", "direction")
        cols = {k: _resolve(layout, mapping[k], k) for k in money_roles if mapping.get(k)}
        if "amount" in cols:
            layout.money = [MoneyRule(amount=cols["amount"], direction=cols.get("direction"), because="mapping")]
        else:
            layout.money = [MoneyRule(debit=cols.get("debit"), credit=cols.get("credit"), because="mapping")]
        layout.columns = {r: i for r, i in layout.columns.items() if i not in cols.values() and r != "balance"}
        layout.invert_sign = bool(mapping.get("invert_sign"))
        layout.from_mapping = True
        return layout

    delimiter = mapping.get("delimiter")
    if delimiter is None:
        delimiter = max(DELIMITERS, key=lambda d: _run_start(_records(sample, d))[::-1][:2])
    records = _records(sample, delimiter)
    skip = int(mapping.get("skip_lines") or 0)
    has_header = mapping.get("has_header")
    refs = {role: mapping[role] for role in ROLES if mapping.get(role) is not None}
    if has_header is None:
        has_header = any(isinstance(v, str) for v in refs.values())
    header = [c.strip() for c in records[skip]] if has_header and len(records) > skip else None
    width = len(records[skip]) if len(records) > skip else 0
    columns = {}
    for role, ref in refs.items():
        if isinstance(ref, int):
            index = ref - 1
        else:
            names = [normalize_header(h) for h in header or []]
            if normalize_header(ref) not in names:
                raise ImportRejected(f"The mapping names a column {ref!r} for {role} that is not in the file's header")
            index = names.index(normalize_header(ref))
        if index >= width:
            raise ImportRejected(f"The mapping puts {role} in column {index + 1}; the file has {width} columns")
        columns[role] = index
    money = []
    if "amount" in columns:
        money.append(MoneyRule(amount=columns["amount"], direction=columns.get("direction"), because="mapping"))
    elif "debit" in columns or "credit" in columns:
        money.append(MoneyRule(debit=columns.get("debit"), credit=columns.get("credit"), because="mapping"))
    layout = Layout(
        delimiter,
        skip + (1 if header else 0),
        {role: i for role, i in columns.items() if role not in ("amount", "debit", "credit", "direction")},
        width,
        header,
        date_order=mapping.get("date_format"),
        decimal_separator=mapping.get("decimal_separator"),
        invert_sign=bool(mapping.get("invert_sign")),
        money=money,
        because=dict.fromkeys(columns, "mapping"),
        from_mapping=True,
    )
    require_roles(layout)
    return layout
