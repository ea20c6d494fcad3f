"""The OpenAPI document, built from the route table and the pydantic models.

OpenAPI 3.1, because its schema dialect is the JSON Schema 2020-12 that pydantic emits
(optional fields as `anyOf: [..., {type: null}]`, which 3.0 cannot express)."""

import contextlib
import re
from typing import Any

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import models_json_schema

from chalicelib.api.route_table import declared_specs
from chalicelib.api.routing import body_required
from chalicelib.core.types import DATE_YEAR_PATTERN

_REF = "#/components/schemas/{model}"
_ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {"type": "array", "items": {"type": "object"}},
            },
        }
    },
}
# routing refuses NUL in any request text (PostgreSQL cannot store it); the document says so
# on every request string that no pattern, format or enum already confines.
_NO_NUL = "^[^\\u0000]*$"
_STATUS_TEXT = {200: "OK", 201: "Created", 202: "Accepted", 204: "No Content"}


def _schema_of(model: Any, mode: str, defs: dict[str, Any]) -> dict[str, Any]:
    if isinstance(model, type) and issubclass(model, BaseModel):
        _, top = models_json_schema([(model, mode)], ref_template=_REF)
        defs.update(top.get("$defs", {}))
        return {"$ref": _REF.format(model=model.__name__)}
    schema = TypeAdapter(model).json_schema(ref_template=_REF, mode=mode)
    defs.update(schema.pop("$defs", {}))
    return schema


def _query_parameters(model: type[BaseModel], defs: dict[str, Any]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=_REF)
    defs.update(schema.get("$defs", {}))
    required = set(schema.get("required", []))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": prop}
        for name, prop in schema.get("properties", {}).items()
    ]


def _exact_patch(model: dict[str, Any]) -> None:
    """A PATCH names at least one field; a field typed without None (`name: Name = None`)
    may be left out but not sent as null, so its pydantic `default: null` is dropped."""
    model["minProperties"] = 1
    for prop in model.get("properties", {}).values():
        if prop.get("default", "unset") is None and not _allows_null(prop):
            del prop["default"]


def _allows_null(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "null" or any(_allows_null(s) for s in schema.get("anyOf", []))


def _refuse_nul(node: Any, defs: dict[str, Any], seen: set[str]) -> None:
    """What routing and RequestModel refuse, said in a request schema (following its $refs):
    no NUL in free text, dates within MIN_DATE..MAX_DATE."""
    if isinstance(node, list):
        for child in node:
            _refuse_nul(child, defs, seen)
        return
    if not isinstance(node, dict):
        return
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        name = ref.rsplit("/", 1)[1]
        if name not in seen and name in defs:
            seen.add(name)
            _refuse_nul(defs[name], defs, seen)
    if node.get("type") == "string" and not {"pattern", "enum", "const", "allOf"} & node.keys():
        if node.get("format") in ("date", "date-time"):
            node["pattern"] = DATE_YEAR_PATTERN
        elif "format" not in node:
            node["pattern"] = _NO_NUL
    if node.get("type") == "object" and node.get("additionalProperties", False) is not False:
        node.setdefault("propertyNames", {"pattern": _NO_NUL})  # free-form keys are text too
    for key, child in list(node.items()):
        if key not in ("default", "example", "examples", "enum", "const"):
            _refuse_nul(child, defs, seen)


def _numeric_defaults(node: Any) -> Any:
    """pydantic renders Decimal defaults as strings ("0.80"); where the schema says the
    value is a number, the document must say the default as a number too."""
    if isinstance(node, dict):
        if node.get("type") in ("number", "integer") and isinstance(node.get("default"), str):
            with contextlib.suppress(ValueError):
                node["default"] = float(node["default"]) if node["type"] == "number" else int(node["default"])
        for value in node.values():
            _numeric_defaults(value)
    elif isinstance(node, list):
        for value in node:
            _numeric_defaults(value)
    return node


def build_document() -> dict[str, Any]:
    defs: dict[str, Any] = {}
    paths: dict[str, Any] = {}
    request_parts: list[Any] = []
    patch_bodies: list[str] = []
    # Every routes module is imported here: the app loads them lazily, one per first call.
    for spec in declared_specs():
        operation: dict[str, Any] = {"operationId": spec.view_name, "summary": spec.summary, "tags": [spec.tag]}
        params = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in re.findall(r"{(\w+)}", spec.path)
        ]
        if spec.query is not None:
            params += _query_parameters(spec.query, defs)
        if params:
            operation["parameters"] = params
        if spec.body is not None:
            operation["requestBody"] = {
                "required": body_required(spec),
                "content": {"application/json": {"schema": _schema_of(spec.body, "validation", defs)}},
            }
            if spec.method == "PATCH":
                patch_bodies.append(spec.body.__name__)
        ok: dict[str, Any] = {"description": _STATUS_TEXT.get(spec.status, "OK")}
        if spec.response is not None and spec.status != 204:
            ok["content"] = {"application/json": {"schema": _schema_of(spec.response, "serialization", defs)}}
        responses: dict[str, Any] = {str(spec.status): ok}
        for status in sorted({400, 500, *spec.errors} | ({401, 429} if spec.auth else set())):
            responses[str(status)] = {
                "description": "Error",
                "content": {"application/json": {"schema": {"$ref": _REF.format(model="Error")}}},
            }
        request_parts.append([operation.get("parameters", []), operation.get("requestBody", {})])
        operation["responses"] = responses
        if spec.auth:
            operation["security"] = [{"bearerAuth": []}]
        paths.setdefault(spec.path, {})[spec.method.lower()] = operation
    # After every route: a later _schema_of may have replaced a shared definition.
    for name in patch_bodies:
        _exact_patch(defs[name])
    _refuse_nul(request_parts, defs, set())
    defs["Error"] = _ERROR_SCHEMA
    return _numeric_defaults(
        {
            "openapi": "3.1.0",
            "info": {"title": "FiscaFlow API", "version": "1.0.0"},
            "paths": paths,
            "components": {
                "schemas": defs,
                "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
            },
        }
    )
