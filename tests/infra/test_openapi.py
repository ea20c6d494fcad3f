import json

from openapi_spec_validator import validate

from chalicelib.api.route_table import declared_specs

# The app imports its routes modules lazily (chalicelib/api/lazy_routes.py); this imports
# every one of them, so every declared route is checked whatever ran before.
ROUTES = declared_specs()


def test_openapi_document_is_valid_and_lists_every_route(client):
    r = client.http.get("/openapi.json")
    assert r.status_code == 200
    doc = json.loads(r.body)

    validate(doc)
    assert doc["openapi"].startswith("3.1")
    documented = {(path, method.upper()) for path, ops in doc["paths"].items() for method in ops}
    assert {(spec.path, spec.method) for spec in ROUTES} <= documented
    assert doc["components"]["schemas"]["Error"]["required"] == ["error"]


def test_authenticated_routes_declare_bearer_security(client):
    doc = json.loads(client.http.get("/openapi.json").body)
    assert "security" not in doc["paths"]["/health"]["get"]
    for spec in ROUTES:
        operation = doc["paths"][spec.path][spec.method.lower()]
        assert ("security" in operation) == spec.auth, spec.path
