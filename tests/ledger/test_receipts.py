"""Receipts through presigned URLs."""

import urllib.request

from tests.factories import make_account, make_transaction


def _put(url: str, data: bytes, content_type: str) -> int:
    req = urllib.request.Request(url, data=data, method="PUT", headers={"Content-Type": content_type})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status


def test_upload_then_download_a_receipt(api, household, conn):
    h = household
    acc = make_account(conn, h.owner["id"], family_id=h.family_id)
    t = make_transaction(conn, h.owner["id"], acc, "-20.00")
    assert api.get(f"/transactions/{t}/receipt", h.member).status == 404

    r = api.post(f"/transactions/{t}/receipt", h.member, {"content_type": "application/pdf"})

    assert r.status == 201
    assert r.body["key"] == f"attachments/{h.owner['id']}/receipts/{t}.pdf" and r.body["expires_in"] > 0
    assert api.get(f"/transactions/{t}", h.viewer).body["receipt_url"] == r.body["key"]
    assert api.get(f"/transactions/{t}/receipt", h.viewer).status == 404  # nothing uploaded yet
    assert _put(r.body["upload_url"], b"%PDF-1.4 receipt", "application/pdf") == 200

    d = api.get(f"/transactions/{t}/receipt", h.viewer)
    assert d.status == 200 and d.body["expires_in"] > 0
    with urllib.request.urlopen(d.body["download_url"], timeout=10) as got:
        assert got.read() == b"%PDF-1.4 receipt"
    assert api.get(f"/transactions/{t}/receipt", h.stranger).status == 404
    assert api.post(f"/transactions/{t}/receipt", h.viewer, {"content_type": "image/png"}).status == 403


def test_only_jpeg_png_and_pdf(api, make_user, conn):
    user = make_user()
    t = make_transaction(conn, user["id"], make_account(conn, user["id"]), "-1.00")
    for ct in ("image/gif", "text/html", ""):
        assert api.post(f"/transactions/{t}/receipt", user, {"content_type": ct}).status == 400
    assert api.post(f"/transactions/{t}/receipt", user, {"content_type": "image/jpeg"}).body["key"].endswith(".jpg")
    assert api.post(f"/transactions/{t}/receipt", user, {}).status == 400
