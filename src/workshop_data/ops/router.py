import hmac

from fastapi import APIRouter, Request, Response
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from workshop_data.api_schema import ErrorResponse, api_response
from workshop_data.app_services import services_of
from workshop_data.auth.schemas import OkResponse
from workshop_data.errors import NotAuthenticated, NotFound, NotReady
from workshop_data.ops.metrics import render

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=OkResponse)
async def healthz() -> Response:
    """Liveness: the process is up (no database needed)."""
    return api_response(OkResponse())


def _bearer_token(request: Request) -> str:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else ""


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Prometheus metrics, only for a scraper that sends `Authorization: Bearer <token>` with
    the token of WORKSHOP_DATA_METRICS_TOKEN: 404 while no token is set (the default) or with
    WORKSHOP_DATA_METRICS_ENABLED=false, 401 without the token."""
    settings = services_of(request.app).settings
    if not settings.metrics_enabled or settings.metrics_token is None:
        raise NotFound("There is nothing at this address.")
    expected = settings.metrics_token.get_secret_value().encode()
    if not hmac.compare_digest(_bearer_token(request).encode(), expected):
        raise NotAuthenticated("The metrics need the scraper's bearer token.")
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
    engine: AsyncEngine = services_of(request.app).engine
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception:
        raise NotReady("The database is not reachable.") from None
    return api_response(OkResponse())
