"""Scheduled jobs by name: the same function runs from `@app.schedule` in AWS, from
the local event bridge, and from `fiscaflow run NAME`."""

from collections.abc import Callable
from dataclasses import asdict, dataclass, is_dataclass
from typing import Any


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[..., Any]
    description: str


def _partitions(*, dry_run: bool = False):
    from chalicelib.retention.partitions import ensure_partitions

    return ensure_partitions(dry_run=dry_run)


JOBS: dict[str, Job] = {
    job.name: job for job in (Job("partitions", _partitions, "create monthly transaction partitions ahead of time"),)
}


def run_job(name: str, *, dry_run: bool = False) -> dict[str, Any]:
    """Run one job now and return its report as a plain dict."""
    if name not in JOBS:
        raise KeyError(f"unknown job {name!r}; known: {', '.join(sorted(JOBS))}")
    report = JOBS[name].run(dry_run=dry_run)
    return asdict(report) if is_dataclass(report) else dict(report or {})
