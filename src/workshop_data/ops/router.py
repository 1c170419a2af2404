from fastapi import APIRouter, Request, Response
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from workshop_data.api_schema import ErrorResponse, api_response
from workshop_data.auth.schemas import OkResponse
from workshop_data.errors import NotFound, NotReady
from workshop_data.ops.metrics import render

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=OkResponse)
async def healthz() -> Response:
    """Liveness: the process is up (no database needed)."""
    return api_response(OkResponse())


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Prometheus metrics (off with WORKSHOP_DATA_METRICS_ENABLED=false)."""
    if not request.app.state.settings.metrics_enabled:
        raise NotFound("There is nothing at this address.")
    body, content_type = render()
    return Response(body, media_type=content_type)


@router.get(
    "/readyz",
    response_model=OkResponse,
    responses={
        # No Retry-After here: whoever probes readiness polls on their own schedule.
        503: {
            "model": ErrorResponse,
            "description": "The database does not answer (`not_ready`).",
            "headers": {},
        }
    },
)
async def readyz(request: Request) -> Response:
    """Readiness: the database answers."""
    engine: AsyncEngine = request.app.state.engine
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception:
        raise NotReady("The database is not reachable.") from None
    return api_response(OkResponse())
