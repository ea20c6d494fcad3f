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


def _budget_alerts(*, dry_run: bool = False):
    from chalicelib.budgets.alerts import run_budget_alerts

    return run_budget_alerts(dry_run=dry_run)


def _unusual_spending(*, dry_run: bool = False):
    from chalicelib.insights.unusual import run_unusual_spending

    return run_unusual_spending(dry_run=dry_run)


def _bill_reminders(*, dry_run: bool = False):
    from chalicelib.insights.bills import run_bill_reminders

    return run_bill_reminders(dry_run=dry_run)


def _search_sync(*, dry_run: bool = False):
    from chalicelib.search.sync import run_search_sync

    return run_search_sync(dry_run=dry_run)


def _import_sweep(*, dry_run: bool = False):
    from chalicelib.imports.sweep import run_import_sweep

    return run_import_sweep(dry_run=dry_run)


def _retention(*, dry_run: bool = False):
    from chalicelib.retention.service import run_retention

    return run_retention(dry_run=dry_run)


def _backup(*, dry_run: bool = False):
    from chalicelib.backups.service import run_backup

    return run_backup(dry_run=dry_run)


def _bank_sync(*, dry_run: bool = False):
    from chalicelib.bank_sync.jobs import run_bank_sync

    return run_bank_sync(dry_run=dry_run)


def _files_backup(*, dry_run: bool = False):
    from chalicelib.backups.files import run_files_backup

    return run_files_backup(dry_run=dry_run)


JOBS: dict[str, Job] = {
    job.name: job
    for job in (
        Job("partitions", _partitions, "monthly transaction partitions ahead; default-partition rows moved (daily)"),
        Job("retention", _retention, "delete rows past retention, archive transactions over 5 years (daily)"),
        Job("backup", _backup, "consistent logical backup to backups/database/, keep the last N (daily)"),
        Job("files-backup", _files_backup, "attachments/ and imports/ as one tar.gz under backups/files/ (daily)"),
        Job("budget-alerts", _budget_alerts, "alert budget categories at their threshold and over 100 % (hourly)"),
        Job("unusual-spending", _unusual_spending, "flag outflows far above the usual at a merchant (daily)"),
        Job("bill-reminders", _bill_reminders, "remind recurring payments due in 0-3 days (daily)"),
        Job("import-sweep", _import_sweep, "fail statement imports left in_progress over 15 minutes (every 5 minutes)"),
        Job("bank-sync", _bank_sync, "sync bank connections whose webhooks have been silent (every 6 hours)"),
        Job("search-sync", _search_sync, "drain the outbox into Elasticsearch, or mark it processed (every minute)"),
    )
}


def run_job(name: str, *, dry_run: bool = False) -> dict[str, Any]:
    """Run one job now and return its report as a plain dict."""
    if name not in JOBS:
        raise KeyError(f"unknown job {name!r}; known: {', '.join(sorted(JOBS))}")
    report = JOBS[name].run(dry_run=dry_run)
    return asdict(report) if is_dataclass(report) else dict(report or {})
