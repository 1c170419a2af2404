"""The live events: a server-sent-events stream per browser, and the presence it reports."""

from typing import Annotated

from fastapi import APIRouter, Header, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncEngine

from workshop_data.api_schema import ErrorResponse, unavailable_or_busy
from workshop_data.app_services import services_of
from workshop_data.auth.service import token_hash
from workshop_data.deps import CurrentUser, EventBusDep, JsonBody, SettingsDep, StreamHubDep
from workshop_data.events import service
from workshop_data.events.http_schemas import PresenceReport
from workshop_data.events.service import SessionCheck

router = APIRouter(prefix="/api/events", tags=["events"])

_STREAM_HEADERS = {
    "Cache-Control": "no-cache",
    # nginx (and proxies that follow it) pass each event on at once instead of buffering.
    "X-Accel-Buffering": "no",
}


_EVENT_SCHEMA: dict[str, object] = {
    "type": "object",
    "required": ["data"],
    "properties": {
        "event": {
            "type": "string",
            "enum": ["step", "progress", "participation", "presence", "resync"],
        },
        "id": {"type": "string"},
        "data": {"type": "string", "contentMediaType": "application/json"},
        "retry": {"type": "integer"},
    },
}


@router.get(
    "",
    response_class=StreamingResponse,
    responses={
        200: {
            # One event of the stream (OpenAPI 3.1 describes an event stream by its event).
            "content": {"text/event-stream": {"schema": _EVENT_SCHEMA}},
            "description": "The stream: `id:`, `event:` and `data:` blocks (docs/api.md, "
            "Events), a comment as heartbeat; it stays open.",
        },
        503: unavailable_or_busy("this server holds as many streams as it allows"),
    },
)
async def events(
    request: Request,
    viewer: CurrentUser,
    settings: SettingsDep,
    hub: StreamHubDep,
    last_event_id: Annotated[
        str | None,
        Header(alias="last-event-id", max_length=64, description="resume after this event"),
    ] = None,
) -> StreamingResponse:
    """Live events of the data the caller may read.

    A participant's own steps, progress and participation; a facilitator's also those of the
    participants assigned to them; an administrator's everyone's. Resumes after
    `Last-Event-ID` without a gap within the retention window (else a `resync` event first).
    Ends when the session does."""
    hashed = token_hash(request.cookies.get(settings.session_cookie_name, ""))
    opened = await service.open_stream(hub, viewer, hashed, last_event_id)
    engine: AsyncEngine = services_of(request.app).autocommit_engine
    return StreamingResponse(
        service.stream_frames(
            hub,
            opened,
            heartbeat_seconds=settings.events_heartbeat_seconds,
            max_seconds=settings.events_stream_max_seconds,
            session_check=SessionCheck(engine, hashed, settings.events_session_check_seconds),
        ),
        media_type="text/event-stream",
        headers=_STREAM_HEADERS,
    )


@router.post(
    "/presence",
    status_code=204,
    response_class=Response,
    responses={
        429: {
            "model": ErrorResponse,
            "description": "More than one report a second (`rate_limited`); `Retry-After`.",
        }
    },
)
async def presence(
    body: JsonBody[PresenceReport],
    user: CurrentUser,
    bus: EventBusDep,
    request: Request,
) -> Response:
    """Report the changes this browser holds unsent.

    The caller's facilitator and the administrators receive it as a `presence` event."""
    service.report_presence(bus, services_of(request.app).presence_limiter, user, body.pending)
    return Response(status_code=204)
