"""Why a statement file is refused: one message for the import and, where rows are at
fault, every bad line (numbered as a person counts lines in the file)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class LineError:
    line: int
    message: str


class ImportRejected(Exception):
    """The file cannot be imported as a whole; nothing of it is written."""

    def __init__(self, message: str, errors: list[LineError] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or []
