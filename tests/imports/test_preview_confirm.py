"""POST /imports {preview: true} reads the file and books nothing; POST /imports/{id}/confirm
books that same object (also a failed import, with a mapping), exactly once however often
it is confirmed or its event delivered."""

import json
import threading
import uuid
from decimal import Decimal

import pytest

from chalicelib.imports import processing
from chalicelib.imports.rejections import MappingRequired
from chalicelib.imports.statement_readers import read_statement as real_read_statement
from tests.factories import make_account, make_family
from tests.imports.conftest import balance_of, fixture_bytes, queued_transactions, transactions_of

# No column is recognisable as the amount: detection refuses, a mapping reads it.
UNUSUAL = b"Wann;Was;Ref\n2024-06-01;Bakery;-4,20\n2024-06-02;Books;-12,00\n"
UNUSUAL_MAPPING = {"date": "Wann", "description": "Was", "amount": "Ref", "decimal_separator": ","}


def _post(client, user, path, body):
    response = client.http.post(path, body=json.dumps(body), headers=user["headers"])
    return response.status_code, json.loads(response.body or b"null")


def _get(client, user, path):
    response = client.http.get(path, headers=user["headers"])
    return response.status_code, json.loads(response.body or b"null")


def _long_csv(rows: int) -> bytes:
    lines = ["Date,Description,Amount"] + [f"2024-03-{1 + n % 28:02d},Shop {n},-{n + 1}.25" for n in range(rows)]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def previewed(client, owner, checking, drop, deliver):
    """A 25-row file uploaded for preview and delivered; (upload body, S3 event)."""
    _, upload = _post(client, owner, "/imports", {"account_id": str(checking), "filename": "m.csv", "preview": True})
    event = drop(upload["key"], _long_csv(25))
    deliver(event)
    return upload, event


def _notifications(conn) -> list[str]:
    return [r["title"] for r in conn.execute("SELECT title FROM notifications ORDER BY created_at").fetchall()]


def test_a_preview_reads_the_file_and_writes_nothing_to_the_ledger(client, conn, owner, checking, previewed):
    upload, _ = previewed

    status, record = _get(client, owner, f"/imports/{upload['import_id']}")

    assert status == 200
    assert (record["status"], record["error_code"], record["transactions_added"]) == ("preview", None, 0)
    assert record["layout"]["format"] == "csv" and record["layout"]["encoding"]
    assert (record["skipped"], record["warnings"], record["candidates"]) == ([], [], None)
    assert len(record["preview_rows"]) == 20
    assert record["preview_rows"][0] == {
        "line": 2, "date": "2024-03-01", "posted_date": None, "amount": "-1.25", "description": "Shop 0",
        "merchant": None, "memo": None, "external_id": None, "status": "posted",
    }  # fmt: skip
    assert transactions_of(conn, checking) == []
    assert balance_of(conn, checking) == Decimal("100.00")
    assert _notifications(conn) == []


def test_confirm_books_the_previewed_object_before_it_answers_202(client, conn, owner, checking, previewed):
    upload, _ = previewed

    status, record = _post(client, owner, f"/imports/{upload['import_id']}/confirm", {})

    assert status == 202
    assert (record["status"], record["transactions_added"], record["duplicates_skipped"]) == ("completed", 25, 0)
    assert len(transactions_of(conn, checking)) == 25
    assert balance_of(conn, checking) == Decimal("100.00") - sum(Decimal(n + 1) + Decimal("0.25") for n in range(25))
    assert _notifications(conn) == ["Statement imported"]
    audit = conn.execute("SELECT resource_data FROM audit_logs WHERE action = 'import.confirmed'").fetchone()
    assert audit["resource_data"]["from_status"] == "preview"


def test_a_second_confirm_and_a_redelivered_event_book_nothing_twice(client, conn, owner, checking, previewed, deliver):
    upload, event = previewed
    assert _post(client, owner, f"/imports/{upload['import_id']}/confirm", {})[0] == 202

    status, answer = _post(client, owner, f"/imports/{upload['import_id']}/confirm", {})
    deliver(event)

    assert (status, answer["error"]["code"]) == (409, "conflict")
    rows = transactions_of(conn, checking)
    assert len(rows) == 25
    assert conn.execute("SELECT count(*) AS n FROM data_sync_logs").fetchone()["n"] == 1
    assert conn.execute("SELECT count(*) AS n FROM outbox").fetchone()["n"] == 1  # one set of the booked rows
    assert queued_transactions(conn) == {r["id"] for r in rows}


def test_concurrent_confirms_book_the_rows_once(client, conn, owner, checking, previewed):
    upload, _ = previewed
    barrier = threading.Barrier(3)
    statuses = []

    def confirm():
        barrier.wait()
        statuses.append(_post(client, owner, f"/imports/{upload['import_id']}/confirm", {})[0])

    threads = [threading.Thread(target=confirm) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(statuses) == [202, 409, 409]
    assert len(transactions_of(conn, checking)) == 25
    assert _notifications(conn) == ["Statement imported"]


def test_a_failed_import_is_confirmed_with_a_mapping_which_is_saved(client, conn, owner, checking, drop, deliver):
    _, upload = _post(client, owner, "/imports", {"account_id": str(checking), "filename": "odd.csv"})
    deliver(drop(upload["key"], UNUSUAL))
    _, failed = _get(client, owner, f"/imports/{upload['import_id']}")
    assert failed["status"] == "failed" and failed["error_code"] in ("invalid_file", "mapping_required")

    status, record = _post(client, owner, f"/imports/{upload['import_id']}/confirm", {"mapping": UNUSUAL_MAPPING})

    assert status == 202
    assert (record["status"], record["transactions_added"], record["error_code"]) == ("completed", 2, None)
    assert (record["error_message"], record["errors"]) == (None, [])
    amounts = {r["description"]: r["amount"] for r in transactions_of(conn, checking)}
    assert amounts == {"Bakery": Decimal("-4.20"), "Books": Decimal("-12.00")}
    saved = conn.execute("SELECT mapping FROM import_mappings WHERE account_id = %s", (checking,)).fetchone()
    assert saved["mapping"] == UNUSUAL_MAPPING
    assert _notifications(conn) == ["Statement import failed", "Statement imported"]


def test_mapping_required_names_candidates_and_a_confirm_with_a_mapping_imports(
    client, conn, owner, checking, drop, deliver, monkeypatch
):
    # Until the readers raise it themselves for doubtful files, a reader that refuses any
    # file read without a mapping stands for one.
    def doubtful_reader(statement, *, mapping, **kwargs):
        if not mapping:
            raise MappingRequired(
                "Which column is the amount cannot be told",
                [{"role": "amount", "column": "Ref", "meaning": "negative is spending"}],
                {"delimiter": ";"},
            )
        return real_read_statement(statement, mapping=mapping, **kwargs)

    monkeypatch.setattr(processing, "read_statement", doubtful_reader)
    _, upload = _post(client, owner, "/imports", {"account_id": str(checking), "filename": "odd.csv"})
    deliver(drop(upload["key"], UNUSUAL))

    _, failed = _get(client, owner, f"/imports/{upload['import_id']}")
    status, record = _post(client, owner, f"/imports/{upload['import_id']}/confirm", {"mapping": UNUSUAL_MAPPING})

    assert (failed["status"], failed["error_code"]) == ("failed", "mapping_required")
    assert failed["candidates"] == [{"role": "amount", "column": "Ref", "meaning": "negative is spending"}]
    assert failed["layout"]["delimiter"] == ";" and failed["layout"]["format"] == "csv"
    assert (status, record["status"], record["transactions_added"]) == (202, "completed", 2)
    assert (record["error_code"], record["candidates"]) == (None, None)


def test_only_preview_and_failed_imports_can_be_confirmed(client, conn, owner, checking, drop, deliver):
    _, pending = _post(client, owner, "/imports", {"account_id": str(checking), "filename": "a.csv"})
    _, done = _post(client, owner, "/imports", {"account_id": str(checking), "filename": "b.csv"})
    deliver(drop(done["key"], fixture_bytes("us_chase_checking.csv")))

    not_landed = _post(client, owner, f"/imports/{pending['import_id']}/confirm", {})
    completed = _post(client, owner, f"/imports/{done['import_id']}/confirm", {})

    assert [not_landed[0], completed[0]] == [409, 409]
    assert len(transactions_of(conn, checking)) == 4


def test_a_stranger_gets_404_on_confirm_and_a_viewer_403(client, conn, make_user, owner, checking, previewed):
    upload, _ = previewed
    stranger = make_user()

    assert _post(client, stranger, f"/imports/{upload['import_id']}/confirm", {})[0] == 404
    assert _post(client, stranger, f"/imports/{uuid.uuid4()}/confirm", {})[0] == 404
    assert _post(client, owner, "/imports/not-a-uuid/confirm", {})[0] == 404
    assert _get(client, owner, f"/imports/{upload['import_id']}")[1]["status"] == "preview"
    assert transactions_of(conn, checking) == []


def test_a_member_who_lost_write_access_cannot_confirm(client, conn, make_user, owner, drop, deliver):
    member = make_user()
    family = make_family(conn, owner["id"], members={member["id"]: "member"})
    shared = make_account(conn, owner["id"], family_id=family)
    _, upload = _post(client, member, "/imports", {"account_id": str(shared), "filename": "m.csv", "preview": True})
    deliver(drop(upload["key"], _long_csv(3)))
    conn.execute("UPDATE family_members SET role = 'viewer' WHERE user_id = %s", (member["id"],))

    status, answer = _post(client, member, f"/imports/{upload['import_id']}/confirm", {})

    assert (status, answer["error"]["code"]) == (403, "forbidden")
    assert transactions_of(conn, shared) == []


@pytest.mark.parametrize(
    ("mapping", "status"),
    [
        ({"account": "9876543210"}, 201),
        ({"account": "9876543210", "date": "Wann", "description": "Was", "amount": "Ref"}, 201),
        ({"account": "9876543210", "date": "Wann"}, 400),
        ({"account": ""}, 400),
    ],
    ids=["account-only", "account-and-columns", "account-and-half-a-csv-mapping", "empty-account"],
)
def test_a_mapping_may_name_only_the_statement(client, owner, checking, mapping, status):
    assert (
        _post(client, owner, "/imports", {"account_id": str(checking), "filename": "a.ofx", "mapping": mapping})[0]
        == status
    )


def test_the_openapi_document_describes_confirm_and_the_new_fields(client):
    doc = json.loads(client.http.get("/openapi.json").body)

    assert "post" in doc["paths"]["/imports/{import_id}/confirm"]
    schemas = doc["components"]["schemas"]
    assert {"layout", "skipped", "warnings", "error_code", "candidates", "preview_rows"} <= set(
        schemas["ImportOut"]["properties"]
    )
    assert "preview" in schemas["ImportCreate"]["properties"]
    assert "account" in schemas["ColumnMapping"]["properties"]


def test_a_redelivered_event_of_a_previewed_file_books_nothing(client, conn, owner, checking, previewed, deliver):
    upload, event = previewed

    deliver(event)

    _, record = _get(client, owner, f"/imports/{upload['import_id']}")
    assert (record["status"], len(record["preview_rows"])) == ("preview", 20)
    assert transactions_of(conn, checking) == []


def test_a_refused_preview_fails_with_its_rows_and_a_mapping_confirms_it(client, conn, owner, checking, drop, deliver):
    body = {"account_id": str(checking), "filename": "odd.csv", "preview": True}
    _, upload = _post(client, owner, "/imports", body)
    deliver(drop(upload["key"], UNUSUAL))

    _, failed = _get(client, owner, f"/imports/{upload['import_id']}")
    status, record = _post(client, owner, f"/imports/{upload['import_id']}/confirm", {"mapping": UNUSUAL_MAPPING})

    assert failed["status"] == "failed" and failed["error_message"] and failed["layout"]["format"] == "csv"
    assert (status, record["status"], record["transactions_added"]) == (202, "completed", 2)
    assert [r["amount"] for r in record["preview_rows"]] == ["-4.20", "-12.00"]


def test_an_outage_during_confirm_is_a_503_and_the_import_can_be_confirmed_again(
    client, conn, owner, checking, previewed, monkeypatch
):
    from chalicelib.infra import storage

    upload, _ = previewed
    original = storage.stat

    def unreachable(key):
        raise ConnectionError("connection refused")

    monkeypatch.setattr(storage, "stat", unreachable)
    status, answer = _post(client, owner, f"/imports/{upload['import_id']}/confirm", {})
    _, between = _get(client, owner, f"/imports/{upload['import_id']}")
    monkeypatch.setattr(storage, "stat", original)
    again, record = _post(client, owner, f"/imports/{upload['import_id']}/confirm", {})

    assert (status, answer["error"]["code"]) == (503, "service_unavailable")
    assert (between["status"], between["error_code"]) == ("failed", "unavailable")
    assert (again, record["status"], record["transactions_added"]) == (202, "completed", 25)
    assert len(transactions_of(conn, checking)) == 25
