"""Bank sync before/after, interleaved: two commits' code (each exported with `git archive`
into a temporary folder and run with this checkout's .venv and bench/bank_sync.py, so the
harness is the same), alternately, so both meet the same machine load. Prints each run's
summary lines with the load average, and the medians of rows/s and of rows per CPU second.

    .venv/bin/python bench/bank_sync_compare.py --before <commit> [--after HEAD] [--rounds 3] [--rows 50000]
        [--after-args=--prefetch]   (the same commit twice, prefetch off/on: --before HEAD --after-args=--prefetch)
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]


def _export(ref: str, into: Path) -> Path:
    archive = into.with_suffix(".tar")
    subprocess.run(["git", "-C", str(HERE), "archive", "--format=tar", "-o", str(archive), ref], check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    # The same harness for both: this checkout's bench script, over the other commit's code.
    (into / "bench" / "bank_sync.py").write_bytes((HERE / "bench" / "bank_sync.py").read_bytes())
    secrets = HERE / ".env.local"  # git-ignored: the generated keys the settings read
    if secrets.exists():
        (into / ".env.local").write_bytes(secrets.read_bytes())
    return into


def _run(tree: Path, rows: int, extra: list[str]) -> tuple[float, float, str]:
    env = dict(os.environ, PYTHONPATH=str(tree))
    out = subprocess.run(
        [sys.executable, str(tree / "bench" / "bank_sync.py"), "--rows", str(rows), "--webhooks", "1", *extra],
        cwd=tree, env=env, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    line = next(line for line in out.splitlines() if line.startswith("sync:"))
    cpu = next(line for line in out.splitlines() if line.startswith("cpu:"))
    rate = float(re.search(r"([\d,]+) rows/s", line).group(1).replace(",", ""))
    per_cpu = float(re.search(r"([\d,]+) rows per CPU second", cpu).group(1).replace(",", ""))
    return rate, per_cpu, f"{line}\n    {cpu}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", required=True, help="commit (or ref) to compare this checkout with")
    parser.add_argument("--after", default="HEAD")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--after-args", default="", help="extra bench/bank_sync.py arguments of the after runs")
    args = parser.parse_args()
    results: dict[str, list[float]] = {"before": [], "after": []}
    per_cpu: dict[str, list[float]] = {"before": [], "after": []}
    with tempfile.TemporaryDirectory(prefix="bank-sync-compare-") as tmp:
        trees = {name: _export(getattr(args, name), Path(tmp) / name) for name in ("before", "after")}
        for n in range(args.rounds):
            for name in ("before", "after") if n % 2 == 0 else ("after", "before"):
                load = os.getloadavg()[0]
                extra = args.after_args.split() if name == "after" else []
                rate, cpu_rate, line = _run(trees[name], args.rows, extra)
                results[name].append(rate)
                per_cpu[name].append(cpu_rate)
                print(f"[{name:6s} load {load:4.1f}] {line}", flush=True)
    before, after = statistics.median(results["before"]), statistics.median(results["after"])
    print(f"median rows/s: before {before:,.0f}, after {after:,.0f} ({after / before:.2f}x) over {args.rounds} rounds")
    before, after = statistics.median(per_cpu["before"]), statistics.median(per_cpu["after"])
    print(f"median rows per CPU second (client + database): before {before:,.0f}, after {after:,.0f} "
          f"({after / before:.2f}x)")  # fmt: skip


if __name__ == "__main__":
    main()
