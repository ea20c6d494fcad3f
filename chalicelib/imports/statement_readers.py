"""The reader for a statement file's format."""

from chalicelib.imports.csv_reader import CsvStatement
from chalicelib.imports.ofx_reader import OfxStatement
from chalicelib.imports.qif_reader import QifStatement
from chalicelib.imports.source import StatementFile


def read_statement(statement: StatementFile, *, mapping: dict | None, account: dict):
    """A reader whose rows() yields StatementRow, LineError or Skipped in file order, and
    whose `report` (a ReadReport) says afterwards what it decided.

    `account` is the target account (id, type, currency, account_number_masked): its
    type decides the sign of card statements, its number which of several statements is its own."""
    if statement.format == "ofx":
        with statement.open_binary() as f:
            return OfxStatement(f, account=account, mapping=mapping)
    if statement.format == "qif":
        return QifStatement(statement.open_text, account=account, mapping=mapping)
    # A mapping saved for an OFX/QIF file (only `account`) says nothing of CSV columns.
    csv_mapping = mapping if mapping and set(mapping) - {"account"} else None
    return CsvStatement(statement.open_text, mapping=csv_mapping, account=account)
