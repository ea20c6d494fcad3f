"""No import is ever left in_progress: a single-line OFX imports (it crashed staging on a
duplicate line number and stayed in_progress forever), any exception while processing
ends the import failed with a message and the failure notification, an outage raises for
a retry, and the import-sweep job fails whatever is still in_progress after 15 minutes."""

import json
import uuid
from decimal import Decimal

import psycopg
import pytest

from chalicelib.imports import processing, repo
from chalicelib.jobs import run_job
from tests.imports.conftest import balance_of, fixture_bytes, import_record, transactions_of


def _single_line_ofx() -> bytes:
    header, body = fixture_bytes("ofx_xml_savings.ofx").split(b"<OFX>", 1)
    return header + b"<OFX>" + b"".join(line.strip() for line in body.splitlines())


def _failure_notifications(conn) -> list[dict]:
    return conn.execute("SELECT message, data FROM notifications WHERE title = 'Statement import failed'").fetchall()


def _upload(client, owner, account, name="c.csv") -> dict:
    body = json.dumps({"account_id": str(account), "filename": name})
    return json.loads(client.http.post("/imports", body=body, headers=owner["headers"]).body)


def _key(owner, account, name="f.csv") -> str:
    return f"imports/{owner['id']}/{account}/{uuid.uuid4()}/{name}"


def test_regression_a_single_line_ofx_imports_every_transaction(conn, owner, checking, run_import):
    data = _single_line_ofx()
    assert data.count(b"<STMTTRN>") == 2 and data.rstrip().count(b"\n") <= 2

    record = run_import(owner["id"], checking, "one-line.ofx", data)

    assert record["status"] == "completed", record["error_message"]
    assert (record["transactions_added"], record["duplicates_skipped"]) == (2, 0)
    assert balance_of(conn, checking) == Decimal("603.21")


def test_regression_a_parser_that_raises_ends_the_import_failed_with_a_notification(
    conn, owner, checking, run_import, monkeypatch
):
    class Exploding:
        def rows(self):
            raise RuntimeError("parser bug")
            yield

    monkeypatch.setattr(processing, "read_statement", lambda statement, **kwargs: Exploding())

    record = run_import(owner["id"], checking, "us_chase_checking.csv")

    assert (record["status"], record["error_code"]) == ("failed", "invalid_file")
    assert "could not be read" in record["error_message"] and record["completed_at"] is not None
    assert transactions_of(conn, checking) == []
    assert [n["data"]["import_id"] for n in _failure_notifications(conn)] == [str(record["id"])]


def test_regression_a_staging_crash_ends_the_import_failed_and_is_not_retried(
    client, conn, owner, checking, drop, deliver, monkeypatch
):
    upload = _upload(client, owner, checking)

    def crash(conn, spool):
        raise psycopg.errors.UniqueViolation("duplicate key value violates unique constraint")

    monkeypatch.setattr(repo, "stage_rows", crash)
    event = drop(upload["key"], fixture_bytes("us_chase_checking.csv"))
    deliver(event)
    deliver(event)  # the redelivery finds the event settled and does not crash again

    record = import_record(conn, upload["key"])
    assert str(record["id"]) == upload["import_id"]
    assert (record["status"], record["error_code"]) == ("failed", "internal_error")
    assert "unexpected error" in record["error_message"]
    assert transactions_of(conn, checking) == [] and balance_of(conn, checking) == Decimal("100.00")
    assert len(_failure_notifications(conn)) == 1
    assert conn.execute("SELECT count(*) AS n FROM data_sync_logs").fetchone()["n"] == 1
    audit = conn.execute("SELECT success, resource_data FROM audit_logs WHERE action = 'import.failed'").fetchone()
    assert (audit["success"], audit["resource_data"]["error_code"]) == (False, "internal_error")


def test_a_crashed_import_confirmed_later_imports(client, conn, owner, checking, drop, deliver, monkeypatch):
    upload = _upload(client, owner, checking)
    original = repo.stage_rows
    monkeypatch.setattr(repo, "stage_rows", lambda conn, spool: 1 / 0)
    deliver(drop(upload["key"], fixture_bytes("us_chase_checking.csv")))
    monkeypatch.setattr(repo, "stage_rows", original)

    response = client.http.post(f"/imports/{upload['import_id']}/confirm", body="{}", headers=owner["headers"])

    assert response.status_code == 202
    assert json.loads(response.body)["status"] == "completed"
    assert len(transactions_of(conn, checking)) == 4


def test_an_outage_raises_for_a_retry_and_the_retry_imports(conn, owner, checking, drop, deliver, monkeypatch):
    key = _key(owner, checking)
    original = repo.stage_rows
    calls = []

    def flaky(conn, spool):
        calls.append(1)
        if len(calls) == 1:
            raise psycopg.OperationalError("server closed the connection unexpectedly")
        return original(conn, spool)

    monkeypatch.setattr(repo, "stage_rows", flaky)
    event = drop(key, fixture_bytes("us_chase_checking.csv"))

    with pytest.raises(psycopg.OperationalError):
        deliver(event)
    deliver(event)

    record = import_record(conn, key)
    assert (record["status"], record["transactions_added"]) == ("completed", 4)
    assert _failure_notifications(conn) == []


def _stale_import(client, conn, owner, checking, *, minutes_ago: int) -> str:
    import_id = _upload(client, owner, checking, "s.csv")["import_id"]
    conn.execute(
        """UPDATE data_sync_logs SET status = 'in_progress', started_at = now() - make_interval(mins => %s)
            WHERE id = %s""",
        (minutes_ago, import_id),
    )
    return import_id


def test_regression_a_stale_in_progress_import_is_failed_by_the_sweep(client, conn, owner, checking):
    stale = _stale_import(client, conn, owner, checking, minutes_ago=16)
    running = _stale_import(client, conn, owner, checking, minutes_ago=5)

    dry = run_job("import-sweep", dry_run=True)
    report = run_job("import-sweep")
    again = run_job("import-sweep")

    assert (dry["failed"], dry["import_ids"]) == (1, [stale])
    assert (report["failed"], report["import_ids"]) == (1, [stale])
    assert again["failed"] == 0
    rows = {str(r["id"]): r for r in conn.execute("SELECT id, status, error_code, error_message FROM data_sync_logs")}
    assert (rows[stale]["status"], rows[stale]["error_code"]) == ("failed", "stale")
    assert "15 minutes" in rows[stale]["error_message"]
    assert rows[running]["status"] == "in_progress"
    assert [n["data"]["import_id"] for n in _failure_notifications(conn)] == [stale]
    body = json.loads(client.http.get(f"/imports/{stale}", headers=owner["headers"]).body)
    assert (body["status"], body["error_code"]) == ("failed", "stale")


def test_a_swept_import_is_finished_by_its_late_delivery(client, conn, owner, checking, drop, deliver):
    upload = _upload(client, owner, checking, "late.csv")
    conn.execute(
        "UPDATE data_sync_logs SET status = 'in_progress', started_at = now() - interval '1 hour' WHERE id = %s",
        (upload["import_id"],),
    )
    run_job("import-sweep")

    deliver(drop(upload["key"], fixture_bytes("us_chase_checking.csv")))

    record = import_record(conn, upload["key"])
    assert (record["status"], record["error_code"], record["transactions_added"]) == ("completed", None, 4)
    assert conn.execute("SELECT count(*) AS n FROM data_sync_logs").fetchone()["n"] == 1


def test_the_sweep_has_its_own_schedule_and_command(capsys):
    from chalice.app import Rate, ScheduledEventConfig

    import app as app_module
    from chalicelib.cli import main

    (source,) = [s for s in app_module.app.event_sources if s.name == "import-sweep"]
    assert isinstance(source, ScheduledEventConfig)
    assert (source.schedule_expression.value, source.schedule_expression.unit) == (5, Rate.MINUTES)

    assert main(["run", "import-sweep"]) == 0
    assert json.loads(capsys.readouterr().out)["report"]["failed"] == 0
