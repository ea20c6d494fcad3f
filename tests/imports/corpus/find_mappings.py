"""For corpus files refused with mapping_required, find which of the offered candidate
mappings gives the count and sum the source project expects (what a person confirming the
import would choose) and print them as JSON {file: mapping}, for expectations.json.

    .venv/bin/python tests/imports/corpus/find_mappings.py tests/imports/corpus

Reads the files with the readers alone (no database), set up like test_corpus.py does."""

import json
import sys
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from chalicelib.imports import source
from chalicelib.imports.rejections import ImportRejected, MappingRequired
from chalicelib.imports.statement import StatementRow
from chalicelib.imports.statement_readers import read_statement


def read(path: Path, entry: dict, mapping: dict | None) -> tuple[int, Decimal]:
    statement = source.StatementFile(str(path), path.stat().st_size)
    source.inspect_content(statement, format=None)
    number = entry.get("account_id")
    account = {
        "id": None,
        "type": entry.get("account_type") or "checking",
        "currency": entry.get("currency") or "USD",
        "account_number_masked": f"****{number[-4:]}" if number else None,
    }
    rows = [
        r for r in read_statement(statement, mapping=mapping, account=account).rows() if isinstance(r, StatementRow)
    ]
    return len(rows), sum((r.amount for r in rows), Decimal(0))


def mapping_for(path: Path, entry: dict) -> dict | None:
    try:
        read(path, entry, None)
        return None
    except MappingRequired as exc:
        candidates = exc.candidates
    except ImportRejected:
        return None  # refused outright: expectations.json says why
    want = (entry["expected"]["count"], Decimal(entry["expected"]["sum"]))
    for extra in ({}, {"invert_sign": True}):
        for candidate in candidates:
            mapping = {k: v for k, v in (candidate["mapping"] | extra).items() if v is not None}
            try:
                if read(path, entry, mapping) == want:
                    return mapping
            except Exception as exc:  # a candidate that cannot read the file is not the answer
                print(f"  {entry['file']}: {mapping} fails: {exc}", file=sys.stderr)
    print(f"NONE {entry['file']}", file=sys.stderr)
    return None


def main(root: Path) -> None:
    found = {}
    for manifest in sorted(root.glob("manifest-*.json")):
        for entry in json.loads(manifest.read_text()):
            mapping = mapping_for(root / entry["file"], entry)
            if mapping is not None:
                found[entry["file"]] = mapping
    print(json.dumps(found, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent))
