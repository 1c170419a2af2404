"""`POST /api/workshop-data/step`, the save every typing participant sends, as a plain
Starlette route in front of the FastAPI one: the same endpoint function
(`router.save_step`), its dependencies resolved here in FastAPI's order instead of by
FastAPI's dependency resolution, which was a fifth of a save's time. The FastAPI route stays
registered behind it, so the OpenAPI document is unchanged, and the middleware (same-origin,
limits, request ids, logging, metrics) and the error handlers apply as to any route."""

from collections.abc import AsyncGenerator, MutableMapping
from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import Scope

from workshop_data import deps
from workshop_data.step_data import router


async def _save_step(request: Request) -> Response:
    # The order of FastAPI's resolution for router.save_step: the app's dependency, then the
    # endpoint's in the order of its parameters, then its headers.
    await deps.check_request_text(request)
    settings = await deps.get_settings(request)
    session = await deps.get_session_credential(request, settings)
    # An async generator, as FastAPI would drive it; closed whatever the endpoint does.
    connections = cast(AsyncGenerator[AsyncConnection], deps.get_step_db(request))
    db = await anext(connections)
    try:
        return await router.save_step(
            request,
            session,
            db,
            await deps.get_catalog(request),
            await deps.get_json_limits(request),
            await deps.get_upload_store(request),
            await deps.get_history_policy(request),
            idempotency_key=request.headers.get("idempotency-key"),
            if_match=request.headers.get("if-match"),
        )
    finally:
        await connections.aclose()


class _SaveRoute(Route):
    def matches(self, scope: Scope) -> tuple[Match, MutableMapping[str, Any]]:
        match, child_scope = super().matches(scope)
        # As FastAPI's routes do: the request observer labels logs and metrics by the route.
        if match is not Match.NONE:
            child_scope["route"] = self
        return match, child_scope


route = _SaveRoute("/api/workshop-data/step", _save_step, methods=["POST"])
