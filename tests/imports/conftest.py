"""Fixtures for statement imports: drop a file in the bucket, deliver its S3 event to the
real handler, read back what the import recorded."""

import uuid
from pathlib import Path
from urllib.parse import quote_plus

import pytest

from tests.factories import make_account

FIXTURES = Path(__file__).parent / "fixtures"


def s3_event(bucket: str, key: str, etag: str, size: int) -> dict:
    """The record S3 sends to Lambda: the key URL-encoded, the eTag quoted."""
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "us-east-1",
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                    "object": {"key": quote_plus(key), "size": size, "eTag": etag},
                },
            }
        ]
    }


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture
def drop(services):
    """Put bytes under a key; returns the S3 event for that object."""
    from chalicelib.infra import storage

    def put(key: str, data: bytes) -> dict:
        etag = storage.put_bytes(key, data, content_type="text/csv")
        return s3_event(storage.bucket(), key, etag, len(data))

    return put


@pytest.fixture
def deliver():
    """Call the app's S3 handler as Lambda would."""
    import app as app_module

    def call(event: dict) -> None:
        app_module.statement_uploaded(event, None)

    return call


@pytest.fixture
def run_import(conn, drop, deliver):
    """Drop a file for (user, account) and deliver its event; returns the import record."""

    def run(user_id, account_id, name: str, data: bytes | None = None, *, import_id=None) -> dict:
        key = f"imports/{user_id}/{account_id}/{import_id or uuid.uuid4()}/{Path(name).name}"
        deliver(drop(key, fixture_bytes(name) if data is None else data))
        return import_record(conn, key)

    return run


def import_record(conn, key: str) -> dict | None:
    return conn.execute("SELECT * FROM data_sync_logs WHERE file_key = %s", (key,)).fetchone()


def transactions_of(conn, account_id) -> list[dict]:
    return conn.execute(
        """SELECT t.*, c.name AS category_name FROM transactions t LEFT JOIN categories c ON c.id = t.category_id
            WHERE t.account_id = %s ORDER BY t.transaction_date, t.amount, t.description""",
        (account_id,),
    ).fetchall()


def balance_of(conn, account_id):
    return conn.execute("SELECT balance FROM accounts WHERE id = %s", (account_id,)).fetchone()["balance"]


@pytest.fixture
def owner(make_user):
    return make_user()


@pytest.fixture
def checking(conn, owner):
    return make_account(conn, owner["id"], opening_balance="100.00")


@pytest.fixture
def euro_account(conn, owner):
    return make_account(conn, owner["id"], name="Girokonto", currency="EUR", opening_balance="1000.00")


def queued_transactions(conn) -> set:
    """The transaction ids the outbox queues for the search index: plain entries and the
    ids of transaction sets (an import's added rows, sql/1321)."""
    rows = conn.execute(
        """SELECT aggregate_id AS id FROM outbox WHERE aggregate_type = 'transaction'
           UNION ALL SELECT unnest(aggregate_ids) FROM outbox WHERE aggregate_type = 'transaction_set'"""
    ).fetchall()
    return {r["id"] for r in rows}
