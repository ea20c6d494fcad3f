"""CPU time of the import's Python side alone, on the bench's generated 100,000-row CSV
(no database, no bucket): detection, the CSV reader, the spool. Best of 3.

    .venv/bin/python bench/imports_reader.py [--code DIR]
"""

import os
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = (
    str(Path(sys.argv[sys.argv.index("--code") + 1]).resolve())
    if "--code" in sys.argv
    else str(Path(__file__).resolve().parents[1])
)
sys.path.insert(0, ROOT)
sys.path.insert(0, str(Path(__file__).resolve().parent))

import imports as bench  # noqa: E402  (the generator of bench/imports.py)

from chalicelib.imports import source  # noqa: E402
from chalicelib.imports.staging import RowSpool  # noqa: E402
from chalicelib.imports.statement import StatementRow  # noqa: E402
from chalicelib.imports.statement_readers import read_statement  # noqa: E402

ACCOUNT = {"id": None, "type": "checking", "currency": "USD", "account_number_masked": None}


def main() -> None:
    start = (date.today().replace(day=1) - timedelta(days=540)).replace(day=1)
    data = bench._csv(bench._rows(100_000, seed=2, start=start, days=540))
    handle, path = tempfile.mkstemp()
    os.write(handle, data)
    os.close(handle)

    def detect():
        statement = source.StatementFile(path, len(data))
        source.inspect_content(statement, format=None)
        return statement

    def read():
        reader = read_statement(detect(), mapping=None, account=ACCOUNT)
        return [row for row in reader.rows() if isinstance(row, StatementRow)]

    rows = read()

    def spool():
        with RowSpool() as out:
            for row in rows:
                out.add(row)
            out.finish()

    try:
        best = {}
        for name, step in (("detect + encoding", detect), ("detect + CSV reader", read), ("spool", spool)):
            times = []
            for _ in range(3):
                started = time.process_time()
                step()
                times.append(time.process_time() - started)
            best[name] = min(times)
        print(f"code: {ROOT}; {len(rows):,} rows; load average {os.getloadavg()[0]:.1f}")
        print("CPU, best of 3: " + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in best.items()))
    finally:
        os.unlink(path)


if __name__ == "__main__":
    main()
