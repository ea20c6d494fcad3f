"""Retention of exports: files and job objects go after 7 days; dry runs only count."""

from datetime import UTC, datetime, timedelta

from chalicelib.exports.expiry import purge_expired_exports
from chalicelib.infra import storage
from tests.exports.helpers import get_export, run_export


def _age(conn, export_id, days: float) -> None:
    conn.execute(
        "UPDATE export_jobs SET created_at = now() - make_interval(secs => %s) WHERE id = %s",
        (days * 86400, export_id),
    )


def test_exports_older_than_seven_days_are_purged_and_say_so(client, ledger, conn):
    old = run_export(client, ledger.user, format="csv")
    recent = run_export(client, ledger.user, format="xlsx")
    _age(conn, old["id"], 7.01)
    _age(conn, recent["id"], 6.9)
    old_prefix = f"exports/{ledger.user['id']}/{old['id']}/"

    dry = purge_expired_exports(dry_run=True)
    assert (dry.jobs_expired, dry.objects_deleted, dry.dry_run) == (1, 2, True)
    assert len(list(storage.list_keys(old_prefix))) == 2

    report = purge_expired_exports(dry_run=False)

    assert (report.jobs_expired, report.objects_deleted) == (1, 2)
    assert list(storage.list_keys(old_prefix)) == []
    assert len(list(storage.list_keys(f"exports/{ledger.user['id']}/{recent['id']}/"))) == 2
    purged = get_export(client, ledger.user, old["id"])
    assert purged["expired"] is True and purged["download_url"] is None and purged["status"] == "completed"
    assert get_export(client, ledger.user, recent["id"])["download_url"] is not None
    assert purge_expired_exports(dry_run=False).jobs_expired == 0


def test_orphan_objects_and_stalled_builds_are_cleaned(client, ledger, conn):
    storage.put_bytes("exports/someone/orphan/job.json", b"{}")
    stalled = run_export(client, ledger.user, format="pdf")
    conn.execute(
        "UPDATE export_jobs SET status = 'in_progress', started_at = now() - interval '2 hours' WHERE id = %s",
        (stalled["id"],),
    )
    later = datetime.now(UTC) + timedelta(days=7, minutes=1)

    dry = purge_expired_exports(dry_run=True, now=datetime.now(UTC) + timedelta(minutes=1))
    assert dry.stalled_jobs_failed == 1 and dry.orphan_objects_deleted == 0

    purge_expired_exports(dry_run=False, now=datetime.now(UTC))
    report = purge_expired_exports(dry_run=False, now=later)

    assert get_export(client, ledger.user, stalled["id"])["status"] == "failed"
    assert report.orphan_objects_deleted == 1 and report.jobs_expired == 1
    assert list(storage.list_keys("exports/")) == []
