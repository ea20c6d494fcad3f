"""The OpenAPI document, built from the route table and the pydantic models.

OpenAPI 3.1, because its schema dialect is the JSON Schema 2020-12 that pydantic emits
(optional fields as `anyOf: [..., {type: null}]`, which 3.0 cannot express)."""

import contextlib
import re
from typing import Any

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import models_json_schema

from chalicelib.api.routing import ROUTES

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
    for spec in ROUTES:
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
                "required": True,
                "content": {"application/json": {"schema": _schema_of(spec.body, "validation", defs)}},
            }
        ok: dict[str, Any] = {"description": _STATUS_TEXT.get(spec.status, "OK")}
        if spec.response is not None and spec.status != 204:
            ok["content"] = {"application/json": {"schema": _schema_of(spec.response, "serialization", defs)}}
        responses: dict[str, Any] = {str(spec.status): ok}
        for status in sorted({400, 500, *spec.errors} | ({401, 429} if spec.auth else set())):
            responses[str(status)] = {
                "description": "Error",
                "content": {"application/json": {"schema": {"$ref": _REF.format(model="Error")}}},
            }
        operation["responses"] = responses
        if spec.auth:
            operation["security"] = [{"bearerAuth": []}]
        paths.setdefault(spec.path, {})[spec.method.lower()] = operation
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
