import json

from openapi_spec_validator import validate


def test_openapi_document_is_valid_and_lists_the_routes(client):
    r = client.http.get("/openapi.json")
    assert r.status_code == 200
    doc = json.loads(r.body)

    validate(doc)
    assert "/health" in doc["paths"] and "get" in doc["paths"]["/health"]
    assert doc["components"]["schemas"]["Error"]["required"] == ["error"]
