"""Issue 16, item 1 (storage side): presigned receipt uploads sign Content-Type and the
declared Content-Length (images and PDF, at most 10 MB); downloads are served with the
stored type, and as an attachment for anything that is not an image or a PDF.

moto's server checks no signatures, so what is proven here is what the URL signs and
what the download answers with; refusing a mismatched upload is the storage's job."""

import json
import urllib.request
from datetime import date
from urllib.parse import parse_qs, urlsplit

from chalicelib.infra import storage
from tests.factories import make_account, make_transaction


def _signed_headers(url):
    return set(parse_qs(urlsplit(url).query)["X-Amz-SignedHeaders"][0].split(";"))


def _receipt_upload(client, user, transaction_id, **body):
    return client.http.post(f"/transactions/{transaction_id}/receipt", headers=user["headers"], body=json.dumps(body))


def test_a_receipt_upload_url_signs_its_type_and_declared_size(client, conn, make_user):
    user = make_user()
    tx = make_transaction(conn, user["id"], make_account(conn, user["id"]), "-5.00", day=date(2026, 11, 2))

    sized = json.loads(_receipt_upload(client, user, tx, content_type="image/png", size=2048).body)
    typed = json.loads(_receipt_upload(client, user, tx, content_type="application/pdf").body)
    too_big = _receipt_upload(client, user, tx, content_type="image/png", size=10 * 1024 * 1024 + 1)
    not_a_receipt = _receipt_upload(client, user, tx, content_type="text/html")

    assert _signed_headers(sized["upload_url"]) == {"content-length", "content-type", "host"}
    assert _signed_headers(typed["upload_url"]) == {"content-type", "host"}
    assert too_big.status_code == 400 and not_a_receipt.status_code == 400


def test_downloads_answer_with_the_stored_type_inline_only_for_images_and_pdf(services):
    storage.put_bytes("attachments/u/receipts/a.png", b"\x89PNG....", content_type="image/png")
    storage.put_bytes("exports/u/e/page.html", b"<script>alert(1)</script>", content_type="text/html")
    storage.put_bytes("exports/u/e/transactions.csv", b"date,amount\n", content_type="text/csv; charset=utf-8")

    with urllib.request.urlopen(storage.presigned_get("attachments/u/receipts/a.png")) as image:
        assert image.headers["Content-Type"] == "image/png"
        assert image.headers.get("Content-Disposition") is None
    with urllib.request.urlopen(storage.presigned_get("exports/u/e/page.html")) as page:
        assert page.headers["Content-Type"] == "text/html"
        assert page.headers["Content-Disposition"] == 'attachment; filename="page.html"'
    with urllib.request.urlopen(storage.presigned_get("exports/u/e/transactions.csv")) as csv:
        assert csv.headers["Content-Type"] == "text/csv; charset=utf-8"
        assert csv.headers["Content-Disposition"].startswith("attachment")


def test_a_statement_upload_url_signs_the_declared_type_and_size_within_the_import_limit(client, conn, make_user):
    from chalicelib.infra.settings import get_settings

    user = make_user()
    account = str(make_account(conn, user["id"]))

    def ask(**extra):
        body = {"account_id": account, "filename": "nov.csv", **extra}
        return client.http.post("/imports", headers=user["headers"], body=json.dumps(body))

    signed = json.loads(ask(content_type="text/csv", size=1234).body)
    plain = json.loads(ask().body)
    too_big = ask(size=get_settings().import_max_bytes + 1)

    assert _signed_headers(signed["upload_url"]) == {"content-length", "content-type", "host"}
    assert _signed_headers(plain["upload_url"]) == {"host"}
    assert too_big.status_code == 400 and json.loads(too_big.body)["error"]["details"][0]["field"] == "size"
    put = urllib.request.Request(
        signed["upload_url"], data=b"x" * 1234, method="PUT", headers={"Content-Type": "text/csv"}
    )
    with urllib.request.urlopen(put) as r:  # the URL works for the declared upload
        assert r.status == 200
