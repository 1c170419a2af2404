from fastapi import APIRouter, Request, Response
from sqlalchemy.ext.asyncio import AsyncEngine

from workshop_data.api_schema import ErrorResponse, api_response, unavailable_or_busy
from workshop_data.auth import service
from workshop_data.auth.schemas import LoginRequest, OkResponse, UserResponse
from workshop_data.deps import (
    CurrentUser,
    DbDep,
    EventBusDep,
    JsonBody,
    PasswordHashingDep,
    SettingsDep,
    ThrottleDep,
)
from workshop_data.settings import Settings

router = APIRouter(prefix="/api/auth", tags=["auth"])


def _client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _cookie_is_secure(request: Request, settings: Settings) -> bool:
    if settings.session_cookie_secure is not None:
        return settings.session_cookie_secure
    return request.url.scheme == "https"


@router.post(
    "/login",
    response_model=UserResponse,
    responses={
        401: {
            "model": ErrorResponse,
            "description": "Wrong username or password, the same answer for either "
            "(`invalid_credentials`).",
        },
        429: {
            "model": ErrorResponse,
            "description": "Too many sign-in attempts for the account or from the address "
            "(`rate_limited`); `Retry-After` says how many seconds to wait.",
        },
        503: unavailable_or_busy("more sign-ins wait for password hashing than the server allows"),
    },
)
async def login(
    request: Request,
    body: JsonBody[LoginRequest],
    settings: SettingsDep,
    throttle: ThrottleDep,
    hashing: PasswordHashingDep,
    bus: EventBusDep,
) -> Response:
    """Sign in with a username or e-mail address and a password.

    Trims surrounding whitespace from the name. Sets the session cookie (HttpOnly,
    SameSite=Lax) and the device cookie (the same but readable by the page, which deletes it
    to sign out on this browser even offline; a request needs both), and revokes the session
    the browser had before. Every failed attempt counts towards the sign-in throttle."""
    engine: AsyncEngine = request.app.state.engine
    user = await service.sign_in(
        engine,
        throttle=throttle,
        hashing=hashing,
        client=_client_address(request),
        login=body.username,
        password=body.password,
    )
    async with engine.connect() as db:
        previous = request.cookies.get(settings.session_cookie_name)
        ended = await service.end_session(db, previous) if previous else None
        started = await service.start_session(db, user.id, settings.session_ttl_seconds)
    if ended is not None:
        bus.publish(ended)
    response = api_response(UserResponse(user=user.public()))
    secure = _cookie_is_secure(request, settings)
    for name, value, httponly in (
        (settings.session_cookie_name, started.token, True),
        # The page's sign-out deletes this one (web/src/app/api.ts endSessionOnThisDevice).
        (settings.device_cookie_name, started.device, False),
    ):
        response.set_cookie(
            name,
            value,
            max_age=settings.session_ttl_seconds,
            httponly=httponly,
            samesite="lax",
            secure=secure,
            path="/",
        )
    return response


@router.post("/logout", response_model=OkResponse)
async def logout(request: Request, db: DbDep, settings: SettingsDep, bus: EventBusDep) -> Response:
    """Sign out: revoke the session on the server and clear both cookies (no session: 200 too).

    The session cookie alone suffices: the page deletes the device cookie before it asks."""
    token = request.cookies.get(settings.session_cookie_name)
    if token:
        ended = await service.end_session(db, token)
        if ended is not None:
            bus.publish(ended)
    response = api_response(OkResponse())
    secure = _cookie_is_secure(request, settings)
    for name, httponly in (
        (settings.session_cookie_name, True),
        (settings.device_cookie_name, False),
    ):
        response.delete_cookie(name, path="/", httponly=httponly, samesite="lax", secure=secure)
    return response


@router.get("/me", response_model=UserResponse, responses={401: {"model": ErrorResponse}})
async def me(user: CurrentUser) -> Response:
    """The signed-in user."""
    return api_response(UserResponse(user=user.public()))
