"""`POST /api/workshop-data/step`, the save every typing participant sends, is also served by a
plain Starlette route in front of the FastAPI one: the same endpoint function, its dependencies
resolved here in FastAPI's order instead of by FastAPI's dependency resolution, which was a
fifth of a save's time (docs/benchmarks.md). The FastAPI route stays registered behind it, so
the OpenAPI document is unchanged, and the middleware and the error handlers apply as to any
route. tests/api/test_save_endpoint.py fails when the endpoint's dependencies change without
this."""

from collections.abc import AsyncGenerator, Awaitable, Callable, MutableMapping
from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import Scope

from workshop_data.auth.service import SessionCredential
from workshop_data.catalog.service import Catalog
from workshop_data.deps import (
    check_request_text,
    get_catalog,
    get_db,
    get_history_policy,
    get_json_limits,
    get_session_credential,
    get_settings,
    get_upload_store,
)
from workshop_data.json_input import JsonLimits
from workshop_data.step_data.history import HistoryPolicy
from workshop_data.uploads.storage import UploadStore

SaveEndpoint = Callable[
    [
        Request,
        SessionCredential,
        AsyncConnection,
        Catalog,
        JsonLimits,
        UploadStore,
        HistoryPolicy,
        # idempotency_key, if_match
        str | None,
        str | None,
    ],
    Awaitable[Response],
]


class _PlainRoute(Route):
    def matches(self, scope: Scope) -> tuple[Match, MutableMapping[str, Any]]:
        match, child_scope = super().matches(scope)
        # As FastAPI's routes do: the request observer labels logs and metrics by the route.
        if match is not Match.NONE:
            child_scope["route"] = self
        return match, child_scope


def save_route(endpoint: SaveEndpoint) -> Route:
    """The plain route for `endpoint`, the FastAPI endpoint of the save."""

    async def save(request: Request) -> Response:
        # FastAPI's order: the app's dependency, then the endpoint's in the order of its
        # parameters, then its headers.
        await check_request_text(request)
        settings = await get_settings(request)
        session = await get_session_credential(request, settings)
        # An async generator, as FastAPI would drive it; closed whatever the endpoint does.
        connections = cast(AsyncGenerator[AsyncConnection], get_db(request))
        db = await anext(connections)
        try:
            return await endpoint(
                request,
                session,
                db,
                await get_catalog(request),
                await get_json_limits(request),
                await get_upload_store(request),
                await get_history_policy(request),
                request.headers.get("idempotency-key"),
                request.headers.get("if-match"),
            )
        finally:
            await connections.aclose()

    return _PlainRoute("/api/workshop-data/step", save, methods=["POST"])
