import json

from chalicelib.cli import main


def test_run_partitions_reports_and_is_idempotent(db_url, capsys):
    assert main(["run", "partitions"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert main(["run", "partitions", "--dry-run"]) == 0
    second = json.loads(capsys.readouterr().out)

    assert first["job"] == "partitions"
    assert second["report"]["partitions_created"] == 0
    assert second["report"]["dry_run"] is True


def test_an_unknown_job_is_an_error(capsys):
    assert main(["run", "no-such-job"]) == 2
    assert "unknown job" in capsys.readouterr().err


def test_migrate_is_a_no_op_on_a_migrated_database(db_url, capsys):
    assert main(["migrate"]) == 0
    assert "0 applied" in capsys.readouterr().out
