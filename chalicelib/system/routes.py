"""GET /health and GET /openapi.json."""

from chalice import Response

from chalicelib.api.context import RequestContext
from chalicelib.api.routing import ApiBlueprint
from chalicelib.system.health import check_health
from chalicelib.system.models import HealthOut
from chalicelib.system.openapi import build_document

routes = ApiBlueprint(__name__, tag="system")


@routes.route("/health", auth=False, response=HealthOut, errors_=(503,))
def health(ctx: RequestContext):
    """Dependency health: postgres, redis, elasticsearch, storage."""
    status, body = check_health()
    return Response(body=body, status_code=status, headers={"Content-Type": "application/json"})


@routes.route("/openapi.json", auth=False, response=dict)
def openapi_document(ctx: RequestContext):
    """This API's OpenAPI 3 document."""
    return build_document()
