"""Issue 16 item 8: the answers Chalice and its local gateway write themselves (unknown
route, unknown method, wrong content type) are in the contract's error shape too, through
chalice.test.Client and through a real `chalice local` server."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _error(status, body):
    parsed = json.loads(body)
    assert set(parsed) == {"error"} and set(parsed["error"]) == {"code", "message", "details"}, body
    return status, parsed["error"]["code"]


CASES = [
    ("GET", "/no/such/route", {}, b"", (404, "not_found")),
    ("GET", "/accounts/1/2/3", {}, b"", (404, "not_found")),
    ("PUT", "/accounts", {}, b"{}", (405, "method_not_allowed")),
    ("DELETE", "/auth/login", {}, b"", (405, "method_not_allowed")),
    ("TRACE", "/accounts", {}, b"", (405, "method_not_allowed")),
    ("POST", "/auth/login", {"Content-Type": "text/plain"}, b"hello", (415, "unsupported_media_type")),
    (
        "POST",
        "/auth/login",
        {"Content-Type": "application/x-www-form-urlencoded"},
        b"a=b",
        (415, "unsupported_media_type"),
    ),
]


@pytest.mark.parametrize(("method", "path", "headers", "body", "expected"), CASES)
def test_regression_issue16_chalice_answers_in_the_contract_shape_test_client(
    client, method, path, headers, body, expected
):
    r = client.http.request(method, path, headers=headers, body=body)
    assert _error(r.status_code, r.body) == expected
    if expected[0] == 405:
        assert r.headers.get("Allow")


def test_our_own_error_bodies_are_left_alone(client):
    # /health's 503 has its own body; the rewrite touches only Chalice's {"Code", "Message"}.
    from chalice import Response

    from chalicelib.api.chalice_errors import contract_shaped

    health = Response(body={"status": "degraded"}, status_code=503)
    assert contract_shaped(health) is health
    rewritten = contract_shaped(Response(body={"Code": "NotFoundError", "Message": "x"}, status_code=404))
    assert json.loads(rewritten.body)["error"]["code"] == "not_found"


@pytest.fixture
def local_server(services):
    """`chalice local` on a free port over this test run's database, Redis prefix and bucket."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "chalice"),
            "local",
            "--no-autoreload",
            "--port",
            str(port),
            "--host",
            "127.0.0.1",
            "--stage",
            "local",
        ],
        cwd=ROOT,
        env={**os.environ, "STAGE": "local"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            assert proc.poll() is None and time.monotonic() < deadline, "chalice local did not start"
            time.sleep(0.2)
    yield base
    proc.terminate()
    proc.wait(10)


def test_regression_issue16_chalice_local_answers_in_the_contract_shape(local_server):
    for method, path, headers, body, expected in [*CASES, ("QUERY", "/accounts", {}, b"", (405, "method_not_allowed"))]:
        req = urllib.request.Request(local_server + path, data=body or None, headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                status, raw = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        assert _error(status, raw) == expected, (method, path)
