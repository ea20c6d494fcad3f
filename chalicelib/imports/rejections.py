"""Why a statement file is refused: one message for the import and, where rows are at
fault, every bad line (numbered as a person counts lines in the file)."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class LineError:
    line: int
    message: str


@dataclass(frozen=True)
class Skipped:
    """A line that is read but is no transaction: an opening or closing balance, a summary
    or total row, a section of another kind (a QIF investment account)."""

    line: int
    reason: str


class ImportRejected(Exception):
    """The file cannot be imported as a whole; nothing of it is written."""

    code = "invalid_file"

    def __init__(self, message: str, errors: list[LineError] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or []


class MappingRequired(ImportRejected):
    """The file can be read more than one way and the ways disagree on money: which column
    is the amount, which sign spending has, which of several statements is the account's.
    Nothing is guessed; `candidates` names the choices (each a dict with at least
    `role`, `column` and `meaning`), and a confirm with a mapping settles it."""

    code = "mapping_required"

    def __init__(
        self, message: str, candidates: list[dict], layout: dict | None = None, errors: list[LineError] | None = None
    ):
        super().__init__(message, errors)
        self.candidates = candidates
        self.layout = layout or {}


@dataclass
class ReadReport:
    """What reading the file decided, for GET /imports/{id}: `layout` (format, encoding,
    delimiter, header line, columns {role: {column, because}}, date order, decimal
    separator, sign convention, checked_against_balance), lines skipped, warnings."""

    layout: dict = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
