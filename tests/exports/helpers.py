"""Helpers for the export tests: ask for an export, run the background step the way
AWS would, fetch the file."""

import json
import urllib.request

from chalicelib.infra import storage


def request_export(client, user: dict, **body):
    body.setdefault("from", "2024-01-01")
    body.setdefault("to", "2024-03-31")
    return client.http.post("/exports", body=json.dumps(body), headers=user["headers"])


def job_keys(user_id=None) -> list[str]:
    prefix = f"exports/{user_id}/" if user_id else "exports/"
    return [k for k in storage.list_keys(prefix) if k.endswith("/job.json")]


def deliver(client, key: str):
    """Invoke the app's S3 handler with the event AWS would send for `key`."""
    event = client.events.generate_s3_event(bucket=storage.bucket(), key=key)
    return client.lambda_.invoke("export_requested", event)


def run_export(client, user: dict, **body) -> dict:
    """POST /exports, deliver its job object's event, return GET /exports/{id}."""
    response = request_export(client, user, **body)
    assert response.status_code == 202, response.body
    export_id = json.loads(response.body)["id"]
    deliver(client, f"exports/{user['id']}/{export_id}/job.json")
    return get_export(client, user, export_id)


def get_export(client, user: dict, export_id: str) -> dict:
    response = client.http.get(f"/exports/{export_id}", headers=user["headers"])
    assert response.status_code == 200, response.body
    return json.loads(response.body)


def download(export: dict) -> bytes:
    assert export["status"] == "completed", export
    with urllib.request.urlopen(export["download_url"], timeout=10) as response:
        return response.read()
