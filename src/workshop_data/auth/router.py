from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from workshop_data.api_schema import ErrorResponse, api_response
from workshop_data.auth import service
from workshop_data.auth.schemas import LoginRequest, OkResponse, UserResponse
from workshop_data.deps import (
    CurrentUser,
    DbDep,
    SettingsDep,
    ThrottleDep,
    json_body,
    openapi_body,
)
from workshop_data.errors import InvalidCredentials
from workshop_data.settings import Settings
from workshop_data.users.service import authenticate

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
    responses={401: {"model": ErrorResponse}, 429: {"model": ErrorResponse}},
    openapi_extra=openapi_body(LoginRequest),
)
async def login(
    request: Request,
    body: Annotated[LoginRequest, Depends(json_body(LoginRequest))],
    db: DbDep,
    settings: SettingsDep,
    throttle: ThrottleDep,
) -> Response:
    client = _client_address(request)
    await throttle.check(client, body.username)
    user = await authenticate(db, body.username, body.password)
    if user is None:
        await throttle.record_failure(client, body.username)
        raise InvalidCredentials("The username or password is not correct.")
    previous = request.cookies.get(settings.session_cookie_name)
    if previous:
        await service.end_session(db, previous)
    token = await service.start_session(db, user.id, settings.session_ttl_seconds)
    response = api_response(UserResponse(user=user.public()))
    response.set_cookie(
        settings.session_cookie_name,
        token,
        max_age=settings.session_ttl_seconds,
        httponly=True,
        samesite="lax",
        secure=_cookie_is_secure(request, settings),
        path="/",
    )
    return response


@router.post("/logout", response_model=OkResponse)
async def logout(request: Request, db: DbDep, settings: SettingsDep) -> Response:
    token = request.cookies.get(settings.session_cookie_name)
    if token:
        await service.end_session(db, token)
    response = api_response(OkResponse())
    response.delete_cookie(settings.session_cookie_name, path="/", httponly=True, samesite="lax")
    return response


@router.get("/me", response_model=UserResponse, responses={401: {"model": ErrorResponse}})
async def me(user: CurrentUser) -> Response:
    return api_response(UserResponse(user=user.public()))
