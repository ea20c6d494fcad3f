"""The checked-in route table (chalicelib/api/route_table.py) against what the routes
modules declare, and app.py's lazy registration against the blueprints it replaces."""

import json
import subprocess
import sys
from pathlib import Path

from chalice import Chalice
from chalice.deploy.swagger import SwaggerGenerator

from chalicelib.api.route_table import ROUTE_MODULES, ROUTE_TABLE, declared_routes
from chalicelib.api.routing import blueprint_of

ROOT = Path(__file__).resolve().parents[2]


def _entries(chalice_app: Chalice) -> dict[tuple[str, str], dict]:
    return {
        (method, path): {
            "view_name": entry.view_name,
            "view_args": entry.view_args,
            "content_types": entry.content_types,
            "api_key_required": entry.api_key_required,
            "cors": entry.cors,
            "authorizer": entry.authorizer,
        }
        for path, methods in chalice_app.routes.items()
        for method, entry in methods.items()
    }


def test_route_table_is_up_to_date():
    assert list(ROUTE_TABLE) == declared_routes(), "run: .venv/bin/python -m chalicelib.api.route_table --write"


def test_app_registers_the_same_routes_as_the_blueprints():
    from app import app

    blueprints = Chalice(app_name="fiscaflow")
    blueprints.api.binary_types = app.api.binary_types
    for module in ROUTE_MODULES:
        blueprints.register_blueprint(blueprint_of(module).blueprint)
    assert _entries(app) == _entries(blueprints)
    assert list(app.routes) == list(blueprints.routes)
    # What `chalice package` / `chalice deploy` make of the routes (API Gateway's definition,
    # with each method's summary and description taken from its view's docstring).
    swagger = SwaggerGenerator("us-east-1", {"api_handler_arn": "arn:aws:lambda:us-east-1:0:function:api"})
    assert swagger.generate_swagger(app) == swagger.generate_swagger(blueprints)


def test_importing_app_loads_no_routes_module_and_no_store_client():
    heavy = [*ROUTE_MODULES, "psycopg", "redis", "minio", "jwt", "Crypto", "boto3", "elasticsearch", "opensearchpy"]
    code = f"import json, sys, app; print(json.dumps([m for m in {heavy!r} if m in sys.modules]))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert json.loads(out.splitlines()[-1]) == []


def test_a_request_loads_only_its_routes_module():
    code = (
        "import json, sys\n"
        "from chalice.test import Client\n"
        "import app\n"
        "with Client(app.app) as client:\n"
        "    status = client.http.get('/openapi.json/nothing').status_code\n"
        "    before = [m for m in app.ROUTE_MODULES if m in sys.modules]\n"
        "    client.http.get('/openapi.json')\n"
        "    print(json.dumps([status, before, [m for m in app.ROUTE_MODULES if m in sys.modules]]))\n"
    ).replace("app.ROUTE_MODULES", repr(ROUTE_MODULES))
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    status, before, after = json.loads(out.splitlines()[-1])
    assert status == 404 and before == []  # an unknown path is answered without loading anything
    assert after == list(ROUTE_MODULES)  # the OpenAPI document needs every route
