#!/usr/bin/env bash
# Before/after of the live push path: bench/live.py run alternately from an older tree
# (REV, default f8f12a0: main before the push function; bd5c9da: before the set-based
# dashboard figures of issue 20) and from this one, so that load swings on a shared
# machine hit both alike.
#
#   bash bench/live_before_after.sh [REV] [ROUNDS] [bench/live.py arguments…]
#   bash bench/live_before_after.sh f8f12a0 2 --writes 100
#
# REV is exported with `git archive` into a temporary directory that uses this tree's
# .venv and .env.local (PYTHONPATH puts its chalicelib first) and this tree's
# bench/live.py, so both sides seed and measure the same; nothing else is touched.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
rev=${1:-f8f12a0}
rounds=${2:-2}
shift $(($# < 2 ? $# : 2))

before=$(mktemp -d /tmp/fiscaflow-live-before.XXXXXX)
trap 'rm -rf "$before"' EXIT
git -C "$here" archive "$rev" | tar -x -C "$before"
ln -s "$here/.venv" "$before/.venv"
cp "$here/.env.local" "$before/.env.local"
cp "$here/bench/live.py" "$before/bench/live.py"

run() {
    local side=$1 tree=$2
    shift 2
    echo "== $side ($(git -C "$here" rev-parse --short "$([ "$side" = before ] && echo "$rev" || echo HEAD)")), $(uptime | sed 's/.*load/load/')"
    (cd "$tree" && PYTHONPATH="$tree" "$here/.venv/bin/python" bench/live.py "$@" 2>&1) |
        grep --line-buffered -v "dropped after its deadline" || true
    echo "   done, $(uptime | sed 's/.*load/load/')"
}

for round in $(seq "$rounds"); do
    echo "### round $round of $rounds"
    run before "$before" "$@"
    run after "$here" "$@"
done
