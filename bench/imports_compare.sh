#!/usr/bin/env bash
# Alternate bench/imports.py between two checkouts, ROUNDS times each (default 2), so that
# load swings on a shared machine hit both alike:
#   bash bench/imports_compare.sh /path/to/before-checkout [ROUNDS]
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
before="$(cd "${1:?usage: imports_compare.sh BEFORE_CHECKOUT [ROUNDS]}" && pwd)"
rounds="${2:-2}"
for round in $(seq "$rounds"); do
    for tree in "$before" "$here"; do
        echo "=== round $round: $tree ($(uptime | sed 's/.*load/load/'))"
        "$here/.venv/bin/python" "$here/bench/imports.py" --code "$tree" | grep -v '^file:'
    done
done
