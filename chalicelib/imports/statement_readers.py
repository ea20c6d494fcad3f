"""The reader for a statement file's format."""

from chalicelib.imports.csv_reader import CsvStatement
from chalicelib.imports.ofx_reader import OfxStatement
from chalicelib.imports.qif_reader import QifStatement
from chalicelib.imports.source import StatementFile


def read_statement(statement: StatementFile, *, mapping: dict | None, currency: str):
    """A reader whose rows() yields StatementRow or LineError, in file order."""
    if statement.format == "ofx":
        with statement.open_binary() as f:
            return OfxStatement(f, currency=currency)
    if statement.format == "qif":
        return QifStatement(statement.open_text, currency=currency)
    return CsvStatement(statement.open_text, mapping=mapping, currency=currency)
