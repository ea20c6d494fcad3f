"""The batched deletes of `retention`: both sides of every boundary, batches, dry run,
an interrupted run, two runs at once."""

import threading
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.retention import cleanup
from chalicelib.retention.service import run_retention
from tests.retention.conftest import table_counts

NOW = datetime.now(UTC)
DAY = timedelta(days=1)


def _years_ago(years: int) -> datetime:
    try:
        return NOW.replace(year=NOW.year - years)
    except ValueError:  # run on 29 February: the boundary is the 28th, as in units.years_before
        return NOW.replace(year=NOW.year - years, day=28)


@pytest.fixture
def aged_rows(conn, make_user):
    """One row just past and one just inside each retention boundary; returns the ids kept."""
    user = make_user()
    uid = user["id"]
    audit = {}
    for label, at in (("old", _years_ago(7) - DAY), ("young", _years_ago(7) + DAY)):
        audit[label] = conn.execute(
            """INSERT INTO audit_logs (user_id, action, resource_type, success, created_at)
               VALUES (%s, 'test.event', 'user', true, %s) RETURNING id""",
            (uid, at),
        ).fetchone()["id"]
    sessions = {}
    for label, expired in (("old", NOW - timedelta(days=30) - timedelta(hours=1)), ("young", NOW - timedelta(days=29))):
        sessions[label] = conn.execute(
            """INSERT INTO user_sessions (user_id, refresh_token, expires_at, created_at)
               VALUES (%s, %s, %s, %s) RETURNING id""",
            (uid, f"digest-{label}", expired, expired - timedelta(days=30)),
        ).fetchone()["id"]
    notes = {}
    for label, expires in (("old", NOW - timedelta(minutes=1)), ("young", NOW + timedelta(minutes=1)), ("never", None)):
        notes[label] = conn.execute(
            """INSERT INTO notifications (user_id, type, title, message, expires_at, created_at)
               VALUES (%s, 'system', 't', 'm', %s, %s) RETURNING id""",
            (uid, expires, NOW - timedelta(days=3)),
        ).fetchone()["id"]
    for label, expires in (("old", NOW - timedelta(minutes=1)), ("young", NOW + timedelta(minutes=1))):
        conn.execute(
            """INSERT INTO idempotency_keys (user_id, idempotency_key, method, path, request_hash, status_code,
                                             created_at, expires_at)
               VALUES (%s, %s, 'POST', '/x', 'h', 201, %s, %s)""",
            (uid, f"key-{label}", expires - timedelta(hours=48), expires),
        )
    for label, expires in (("old", NOW - timedelta(minutes=1)), ("young", NOW + timedelta(minutes=1))):
        conn.execute(
            """INSERT INTO auth_email_tokens (user_id, purpose, token_digest, expires_at)
               VALUES (%s, 'password_reset', %s, %s)""",
            (uid, f"token-{label}", expires),
        )
    for label, at in (("old", NOW - timedelta(days=91)), ("young", NOW - timedelta(days=89))):
        conn.execute(
            "INSERT INTO processed_events (event_key, handler, processed_at) VALUES (%s, 'test', %s)",
            (f"event-{label}", at),
        )
    return {"user": user, "audit": audit, "sessions": sessions, "notes": notes}


def _ids(conn, table, column="id"):
    return {r[column] for r in conn.execute(f"SELECT {column} FROM {table}")}


def test_each_boundary_deletes_the_old_side_and_keeps_the_young_side(conn, aged_rows):
    report = run_retention(now=NOW)

    assert _ids(conn, "audit_logs") == {aged_rows["audit"]["young"]}
    assert aged_rows["sessions"]["old"] not in _ids(conn, "user_sessions")
    assert aged_rows["sessions"]["young"] in _ids(conn, "user_sessions")
    assert aged_rows["user"]["session_id"] in _ids(conn, "user_sessions")  # a live session is never touched
    assert _ids(conn, "notifications") == {aged_rows["notes"]["young"], aged_rows["notes"]["never"]}
    assert _ids(conn, "idempotency_keys", "idempotency_key") == {"key-young"}
    assert _ids(conn, "processed_events", "event_key") == {"event-young"}
    assert "token-old" not in _ids(conn, "auth_email_tokens", "token_digest")
    assert "token-young" in _ids(conn, "auth_email_tokens", "token_digest")
    assert report.deleted == {
        "audit_logs": 1,
        "user_sessions": 1,
        "notifications": 1,
        "idempotency_keys": 1,
        "auth_email_tokens": 1,
        "processed_events": 1,
    }


def test_dry_run_counts_the_same_rows_and_changes_nothing(conn, aged_rows):
    before = table_counts(conn)

    dry = run_retention(dry_run=True, now=NOW)

    assert table_counts(conn) == before
    assert dry.dry_run is True
    assert run_retention(now=NOW).deleted == dry.deleted


def test_deletes_in_batches_and_a_second_run_finds_nothing(conn, make_user, settings_env):
    settings_env(retention_batch_size=3)
    uid = make_user()["id"]
    conn.execute(
        """INSERT INTO audit_logs (user_id, action, resource_type, success, created_at)
           SELECT %s, 'test.event', 'user', true, %s FROM generate_series(1, 10)""",
        (uid, _years_ago(8)),
    )
    batches = []

    deleted = cleanup.delete_expired(cleanup.expiries()[0], now=NOW, on_batch=lambda t, n: batches.append(n))

    assert deleted == 10 and batches == [3, 3, 3, 1]
    assert run_retention(now=NOW).deleted["audit_logs"] == 0


def test_a_run_failing_between_batches_keeps_whole_batches_and_the_next_run_finishes(
    conn, make_user, settings_env, monkeypatch
):
    settings_env(retention_batch_size=4)
    uid = make_user()["id"]
    conn.execute(
        """INSERT INTO audit_logs (user_id, action, resource_type, success, created_at)
           SELECT %s, 'test.event', 'user', true, %s FROM generate_series(1, 10)""",
        (uid, _years_ago(8)),
    )
    real = cleanup.delete_batch
    calls = []

    def dies_after_two_batches(*args, **kwargs):
        if len(calls) == 2:
            raise RuntimeError("killed")
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(cleanup, "delete_batch", dies_after_two_batches)
    with pytest.raises(RuntimeError):
        run_retention(now=NOW)
    assert conn.execute("SELECT count(*) AS n FROM audit_logs").fetchone()["n"] == 2  # two whole batches of 4

    monkeypatch.setattr(cleanup, "delete_batch", real)
    assert run_retention(now=NOW).deleted["audit_logs"] == 2
    assert conn.execute("SELECT count(*) AS n FROM audit_logs").fetchone()["n"] == 0


def test_two_runs_at_once_share_the_work_without_errors(conn, make_user, settings_env):
    settings_env(retention_batch_size=50)
    uid = make_user()["id"]
    conn.execute(
        """INSERT INTO audit_logs (user_id, action, resource_type, success, created_at)
           SELECT %s, 'test.event', 'user', true, %s FROM generate_series(1, 2000)""",
        (uid, _years_ago(8)),
    )
    reports, errors = [], []

    def run():
        try:
            reports.append(run_retention(now=NOW))
        except Exception as exc:  # collected: the assertion below names it
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert sum(r.deleted["audit_logs"] for r in reports) == 2000
    assert conn.execute("SELECT count(*) AS n FROM audit_logs").fetchone()["n"] == 0
