"""The OpenAPI document at /api/openapi.json, made to say what the server does.

FastAPI builds it from the routes; this module completes it from facts the routes cannot
state themselves: the statuses every route of a kind answers (400 for any malformed parameter,
401 behind the session, 403/413/415 from the request guard on unsafe methods, 503 wherever the
database is used), validation errors as 400 in the common error shape rather than FastAPI's
422, the session cookie as a security scheme, the catalogue's workshop types as an enum, and
each operation's summary from the first line of its handler's docstring."""

import http.client
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts

from workshop_data import deps
from workshop_data.api_schema import ErrorResponse
from workshop_data.catalog.service import Catalog
from workshop_data.middleware import UNSAFE_METHODS

SESSION_SCHEME = "sessionCookie"
DEVICE_SCHEME = "deviceCookie"
_ERROR_SCHEMA = {"$ref": "#/components/schemas/ErrorResponse"}
# A route that depends on one of these reads or writes the database (the session lookup too).
_DATABASE_DEPENDENCIES: frozenset[Callable[..., Any]] = frozenset(
    {deps.get_current_user, deps.get_db}
)
# A route that depends on one of these needs a session (the step writes check theirs in the
# save statement itself).
_SESSION_DEPENDENCIES: frozenset[Callable[..., Any]] = frozenset(
    {deps.get_current_user, deps.get_session_credential}
)

# What each error status means in this API. A route may describe its own instead.
ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "The request is not valid; `error` names the parameter, header or body field "
    "(`invalid_input`, `invalid_body`, `invalid_json`, `invalid_data`, ...). Nothing changed.",
    401: "Not signed in, or the session expired or was revoked (`not_authenticated`).",
    403: "The caller may not do this (`forbidden`).",
    404: "There is no such resource, or the caller may not know of it (`not_found`).",
    409: "The request conflicts with what is stored; `code` says how.",
    413: "The request body is larger than this route takes (`payload_too_large`).",
    415: "An unsafe method with a body that is not JSON: `application/json` (a patch may also "
    "say `application/merge-patch+json`) (`unsupported_media_type`).",
    423: "The workshop was completed, so this can no longer change (`workshop_locked`).",
    429: "Too many attempts; `Retry-After` says how many seconds to wait (`rate_limited`).",
    503: "The database is not reachable right now (`database_unavailable`); nothing changed. "
    "`Retry-After` says when to try again.",
}
_CROSS_SITE = (
    "An unsafe method sent from another origin (`Origin`, or `Sec-Fetch-Site` without one) "
    "is refused: `cross_site_request`."
)
_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer"},
    }
}


def install_openapi(
    app: FastAPI, catalog: Catalog, session_cookie_name: str, device_cookie_name: str
) -> None:
    """Replace `app.openapi` with one that completes FastAPI's document (built once)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        complete(schema, app, catalog, session_cookie_name, device_cookie_name)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def document_json_bodies(router: APIRouter) -> None:
    """Document the request body of each route of `router` that takes a `deps.JsonBody`, from
    its model (before the router is included: an included route keeps what it had then)."""
    for route in router.routes:
        if not isinstance(route, APIRoute):
            continue
        for call in _dependencies(route.dependant):
            if isinstance(call, deps.JsonBodyParser):
                documented = deps.openapi_body(call.model)
                route.openapi_extra = {**documented, **(route.openapi_extra or {})}


def complete(
    schema: dict[str, Any],
    app: FastAPI,
    catalog: Catalog,
    session_cookie_name: str,
    device_cookie_name: str,
) -> None:
    components = schema.setdefault("components", {})
    component_schemas = components.setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        component_schemas.pop(unused, None)
    component_schemas.setdefault("ErrorResponse", ErrorResponse.model_json_schema())
    components["securitySchemes"] = {
        SESSION_SCHEME: {
            "type": "apiKey",
            "in": "cookie",
            "name": session_cookie_name,
            "description": "The session cookie that `POST /api/auth/login` sets (HttpOnly).",
        },
        DEVICE_SCHEME: {
            "type": "apiKey",
            "in": "cookie",
            "name": device_cookie_name,
            "description": "The session's device secret that `POST /api/auth/login` sets "
            "beside the session cookie (readable by the page, which deletes it to sign out on "
            "this browser); a request needs both.",
        },
    }
    for route in _documented_routes(app):
        for method in sorted(route.methods or ()):
            operation = schema["paths"][route.path_format][method.lower()]
            _complete_operation(operation, route, method)
            _name_workshop_types(operation, catalog.workshop_types)


def _documented_routes(app: FastAPI) -> Iterator[RouteContext]:
    """Every route the document lists, as mounted (with the prefixes and the app's own
    dependencies of the routers it was included through)."""
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, APIRoute) and route.include_in_schema:
            yield route


def _dependencies(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from _dependencies(dependency)


def _complete_operation(operation: dict[str, Any], route: RouteContext, method: str) -> None:
    calls = set(_dependencies(route.dependant))
    responses: dict[str, Any] = operation.setdefault("responses", {})
    # Invalid parameters are answered 400 in the common error shape (app.py), never 422.
    responses.pop("422", None)
    _add(responses, 400)
    if calls & _SESSION_DEPENDENCIES:
        _add(responses, 401)
        operation["security"] = [{SESSION_SCHEME: [], DEVICE_SCHEME: []}]
    if method in UNSAFE_METHODS:
        # The request guard (middleware.py) checks every unsafe method before its route.
        refused_by_role = "403" in responses
        _add(responses, 403)
        responses["403"]["description"] = (
            f"{_description(responses['403'], 403)} {_CROSS_SITE}"
            if refused_by_role
            else _CROSS_SITE
        )
        _add(responses, 413)
        _add(responses, 415)
    if calls & _DATABASE_DEPENDENCIES:
        _add(responses, 503)
    for status, response in responses.items():
        if status.isdigit() and int(status) >= 400:
            response["description"] = _description(response, int(status))
            if status in ("429", "503"):
                # A route whose answer has no Retry-After declares `headers` itself.
                response.setdefault("headers", _RETRY_AFTER)
    operation["responses"] = dict(sorted(responses.items()))
    docstring = (route.description or "").strip()
    if docstring and route.summary is None:
        operation["summary"] = docstring.split("\n\n", 1)[0].replace("\n", " ")


def _add(responses: dict[str, Any], status: int) -> None:
    responses.setdefault(
        str(status),
        {
            "description": ERROR_DESCRIPTIONS[status],
            "content": {"application/json": {"schema": _ERROR_SCHEMA}},
        },
    )


def _description(response: dict[str, Any], status: int) -> str:
    """The route's own description, or ours where FastAPI filled in the status's phrase."""
    given = str(response.get("description", ""))
    if given in ("", "Additional Response", http.client.responses.get(status)):
        return ERROR_DESCRIPTIONS.get(status, given)
    return given


def _name_workshop_types(operation: dict[str, Any], workshop_types: list[str]) -> None:
    """`workshopType` is one of the catalogue's workshops, which a deployment may extend, so
    the enum is filled in from the catalogue the server loaded."""
    for parameter in operation.get("parameters", []):
        if parameter["name"] == "workshopType":
            parameter["schema"]["enum"] = list(workshop_types)
    body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    properties = body.get("schema", {}).get("properties", {})
    if "workshopType" in properties:
        properties["workshopType"]["enum"] = list(workshop_types)
