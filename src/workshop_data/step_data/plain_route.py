"""The saves every typing participant sends — `POST /api/workshop-data/step` and
`PATCH /api/workshop-data/step/{workshopType}/{stepId}` — are also served by plain Starlette
routes in front of the FastAPI ones: the same endpoint functions, their dependencies resolved
here in FastAPI's order instead of by FastAPI's dependency resolution, which was a fifth of a
save's time (docs/benchmarks.md). The FastAPI routes stay registered behind them, so the
OpenAPI document is unchanged, and the middleware and the error handlers apply as to any
route. A PATCH whose step id is longer than any step's is left to the FastAPI route, which
refuses it as always. tests/api/test_save_endpoint.py fails when an endpoint's dependencies
change without this."""

from collections.abc import AsyncGenerator, Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import Scope

from workshop_data.auth.service import SessionCredential
from workshop_data.catalog.service import MAX_STEP_ID_LENGTH, Catalog
from workshop_data.deps import (
    check_request_text,
    get_catalog,
    get_db,
    get_event_bus,
    get_history_policy,
    get_json_limits,
    get_session_credential,
    get_settings,
    get_upload_store,
)
from workshop_data.events.bus import EventBus
from workshop_data.json_input import JsonLimits
from workshop_data.step_data.history import HistoryPolicy
from workshop_data.uploads.storage import UploadStore

SAVE_PATH = "/api/workshop-data/step"
PATCH_PATH = "/api/workshop-data/step/{workshopType}/{stepId}"

SaveEndpoint = Callable[
    [
        Request,
        SessionCredential,
        AsyncConnection,
        Catalog,
        JsonLimits,
        UploadStore,
        HistoryPolicy,
        EventBus,
        # idempotency_key, if_match, x_device_id
        str | None,
        str | None,
        str | None,
    ],
    Awaitable[Response],
]
PatchEndpoint = Callable[
    [
        # workshop_type, step_id
        str,
        str,
        Request,
        SessionCredential,
        AsyncConnection,
        Catalog,
        JsonLimits,
        UploadStore,
        HistoryPolicy,
        EventBus,
        # idempotency_key, if_match, x_base_version, x_schema_version, x_device_id
        str | None,
        str | None,
        str | None,
        str | None,
        str | None,
    ],
    Awaitable[Response],
]


class _PlainRoute(Route):
    def matches(self, scope: Scope) -> tuple[Match, MutableMapping[str, Any]]:
        match, child_scope = super().matches(scope)
        if match is Match.FULL and not self._takes(child_scope.get("path_params", {})):
            return Match.NONE, {}
        # As FastAPI's routes do: the request observer labels logs and metrics by the route.
        if match is not Match.NONE:
            child_scope["route"] = self
        return match, child_scope

    def _takes(self, path_params: dict[str, Any]) -> bool:
        # What FastAPI's StepIdPath allows; anything else goes on to the FastAPI route.
        step_id = path_params.get("stepId")
        return step_id is None or len(step_id) <= MAX_STEP_ID_LENGTH


@dataclass
class _Resolved:
    """What both save endpoints depend on, in the order of their parameters."""

    session: SessionCredential
    db: AsyncConnection
    catalog: Catalog
    limits: JsonLimits
    store: UploadStore
    history: HistoryPolicy
    bus: EventBus


async def _serve(request: Request, call: Callable[[_Resolved], Awaitable[Response]]) -> Response:
    # FastAPI's order: the app's dependency, then the endpoint's in the order of its
    # parameters, then its headers.
    await check_request_text(request)
    settings = await get_settings(request)
    session = await get_session_credential(request, settings)
    # An async generator, as FastAPI would drive it; closed whatever the endpoint does.
    connections = cast(AsyncGenerator[AsyncConnection], get_db(request))
    db = await anext(connections)
    try:
        response = await call(
            _Resolved(
                session,
                db,
                await get_catalog(request),
                await get_json_limits(request),
                await get_upload_store(request),
                await get_history_policy(request),
                await get_event_bus(request),
            )
        )
    except BaseException:
        await connections.aclose()
        raise
    # As FastAPI ends the dependency after an endpoint that returned: the code after its
    # `yield` runs as for a success.
    await anext(connections, None)
    return response


def save_route(endpoint: SaveEndpoint) -> Route:
    """The plain route for `endpoint`, the FastAPI endpoint of `POST` `SAVE_PATH`."""

    async def save(request: Request) -> Response:
        async def call(it: _Resolved) -> Response:
            return await endpoint(
                request,
                it.session,
                it.db,
                it.catalog,
                it.limits,
                it.store,
                it.history,
                it.bus,
                request.headers.get("idempotency-key"),
                request.headers.get("if-match"),
                request.headers.get("x-device-id"),
            )

        return await _serve(request, call)

    return _PlainRoute(SAVE_PATH, save, methods=["POST"])


def patch_route(endpoint: PatchEndpoint) -> Route:
    """The plain route for `endpoint`, the FastAPI endpoint of `PATCH` `PATCH_PATH`."""

    async def patch(request: Request) -> Response:
        async def call(it: _Resolved) -> Response:
            return await endpoint(
                request.path_params["workshopType"],
                request.path_params["stepId"],
                request,
                it.session,
                it.db,
                it.catalog,
                it.limits,
                it.store,
                it.history,
                it.bus,
                request.headers.get("idempotency-key"),
                request.headers.get("if-match"),
                request.headers.get("x-base-version"),
                request.headers.get("x-schema-version"),
                request.headers.get("x-device-id"),
            )

        return await _serve(request, call)

    return _PlainRoute(PATCH_PATH, patch, methods=["PATCH"])
