"""FastAPI dependencies shared by the routers, as `Annotated` aliases."""

from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Generic, TypeVar

from fastapi import Depends, Path, Query, Request
from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from workshop_data.admin.schemas import MAX_PAGE_SIZE
from workshop_data.auth import service as auth_service
from workshop_data.auth.service import NOT_SIGNED_IN, SessionCredential, SessionTouches
from workshop_data.auth.throttle import LoginThrottle
from workshop_data.catalog.service import MAX_STEP_ID_LENGTH, Catalog
from workshop_data.db.kept_connections import KeptConnections
from workshop_data.errors import Forbidden, InvalidInput, NotAuthenticated
from workshop_data.events.bus import EventBus
from workshop_data.events.hub import StreamHub
from workshop_data.json_input import JsonLimits, parse_json
from workshop_data.settings import Settings
from workshop_data.step_data.history import HistoryPolicy
from workshop_data.text_policy import check_storable
from workshop_data.uploads.storage import UploadStore
from workshop_data.users.passwords import PasswordHashing
from workshop_data.users.service import User

ModelT = TypeVar("ModelT", bound=BaseModel)


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_catalog(request: Request) -> Catalog:
    catalog: Catalog = request.app.state.catalog
    return catalog


async def get_throttle(request: Request) -> LoginThrottle:
    throttle: LoginThrottle = request.app.state.login_throttle
    return throttle


async def get_password_hashing(request: Request) -> PasswordHashing:
    hashing: PasswordHashing = request.app.state.password_hasher
    return hashing


async def get_json_limits(request: Request) -> JsonLimits:
    limits: JsonLimits = request.app.state.json_limits
    return limits


async def get_upload_store(request: Request) -> UploadStore:
    store: UploadStore = request.app.state.upload_store
    return store


async def get_db(request: Request) -> AsyncIterator[AsyncConnection]:
    """The request's connection, one an earlier request left clean where there is one
    (db/kept_connections.py). On PostgreSQL every statement commits by itself (one round
    trip); a service whose statements must commit together opens `db.transaction` itself."""
    kept: KeptConnections = request.app.state.kept_connections
    conn = await kept.take()
    clean = False
    try:
        yield conn
        clean = True
    finally:
        await kept.give_back(conn, clean=clean)


async def get_history_policy(request: Request) -> HistoryPolicy:
    policy: HistoryPolicy = request.app.state.history_policy
    return policy


async def get_event_bus(request: Request) -> EventBus:
    bus: EventBus = request.app.state.event_bus
    return bus


async def get_stream_hub(request: Request) -> StreamHub:
    hub: StreamHub = request.app.state.stream_hub
    return hub


SettingsDep = Annotated[Settings, Depends(get_settings)]
EventBusDep = Annotated[EventBus, Depends(get_event_bus)]
StreamHubDep = Annotated[StreamHub, Depends(get_stream_hub)]
CatalogDep = Annotated[Catalog, Depends(get_catalog)]
ThrottleDep = Annotated[LoginThrottle, Depends(get_throttle)]
JsonLimitsDep = Annotated[JsonLimits, Depends(get_json_limits)]
UploadStoreDep = Annotated[UploadStore, Depends(get_upload_store)]
PasswordHashingDep = Annotated[PasswordHashing, Depends(get_password_hashing)]
DbDep = Annotated[AsyncConnection, Depends(get_db)]
HistoryDep = Annotated[HistoryPolicy, Depends(get_history_policy)]


def session_cookies(request: Request, settings: Settings) -> tuple[str, str] | None:
    """The request's session token and device secret, when it sent both cookies."""
    token = request.cookies.get(settings.session_cookie_name)
    device = request.cookies.get(settings.device_cookie_name)
    return (token, device) if token and device else None


async def get_current_user(request: Request, settings: SettingsDep) -> User:
    # Its own short checkout, returned before the route takes its connection: a request
    # never holds two pooled connections at once, so a busy pool cannot deadlock.
    sent = session_cookies(request, settings)
    if sent is not None:
        token, device = sent
        engine: AsyncEngine = request.app.state.autocommit_engine
        async with engine.connect() as conn:
            user = await auth_service.user_for_session(
                conn, token, device, settings.session_ttl_seconds
            )
        if user is not None:
            request.state.user_id = user.id
            return user
    raise NotAuthenticated(NOT_SIGNED_IN)


CurrentUser = Annotated[User, Depends(get_current_user)]
# Path parameters are named in camelCase, as every field of the JSON API is.
UserIdPath = Annotated[int, Path(alias="userId", ge=1, le=2**63 - 1, description="a user's id")]
WorkshopTypePath = Annotated[
    str, Path(alias="workshopType", description="a workshop of the catalogue (`GET /api/catalog`)")
]
StepIdPath = Annotated[
    str,
    Path(
        alias="stepId",
        min_length=1,
        max_length=MAX_STEP_ID_LENGTH,
        description="a step of that workshop in the catalogue",
    ),
]


# Paging and searching a list of accounts.
Page = Annotated[int, Query(ge=1, le=1_000_000)]
PageSize = Annotated[int, Query(alias="pageSize", ge=1, le=MAX_PAGE_SIZE)]
Search = Annotated[str | None, Query(max_length=200)]


async def get_session_credential(request: Request, settings: SettingsDep) -> SessionCredential:
    """For the step write routes, whose save statement checks the session itself (see
    step_data/service.py): the request's session token and device secret, no lookup. Without
    either cookie: 401 as from get_current_user."""
    sent = session_cookies(request, settings)
    if sent is None:
        raise NotAuthenticated(NOT_SIGNED_IN)
    touches: SessionTouches = request.app.state.session_touches
    return SessionCredential(sent[0], sent[1], settings.session_ttl_seconds, touches)


SessionCredentialDep = Annotated[SessionCredential, Depends(get_session_credential)]


async def get_admin(user: CurrentUser) -> User:
    if not user.is_admin:
        raise Forbidden("Only an administrator can do this.")
    return user


AdminUser = Annotated[User, Depends(get_admin)]


def validation_message(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "body"
    return f"{where}: {first['msg']}"


@dataclass(frozen=True)
class JsonBodyParser(Generic[ModelT]):
    """A dependency that reads the body with our own parser and validates it as `model`;
    openapi.py documents the body of every route that depends on one."""

    model: type[ModelT]

    async def __call__(self, request: Request) -> ModelT:
        payload = parse_json(await request.body())
        if not isinstance(payload, dict):
            raise InvalidInput("The request body must be a JSON object.", code="invalid_body")
        try:
            return self.model.model_validate(payload)
        except ValidationError as error:
            raise InvalidInput(validation_message(error), code="invalid_body") from None


if TYPE_CHECKING:
    JsonBody = Annotated[ModelT, "the request's JSON body"]
else:

    class JsonBody:
        """`body: JsonBody[Model]`: the request's JSON body, parsed, validated as `Model` and
        documented as the route's request body."""

        def __class_getitem__(cls, model: type[BaseModel]) -> Any:
            return Annotated[model, Depends(JsonBodyParser(model))]


def json_body(model: type[ModelT]) -> Callable[[Request], Coroutine[Any, Any, ModelT]]:
    """The parser of `JsonBody[model]`, for a route that reads its body itself."""
    return JsonBodyParser(model).__call__


def openapi_body(model: type[BaseModel]) -> dict[str, Any]:
    """The document of a body that `JsonBodyParser(model)` parses (as `openapi_extra`, for a
    route that reads its body itself)."""
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": model.model_json_schema(by_alias=True)}},
        }
    }


async def check_request_text(request: Request) -> None:
    """The input policy for everything but the body (which `json_body` checks as it parses):
    path and query parameters and header values that cannot be stored are refused with 400
    naming the parameter, before any route's own dependency or the database sees them."""
    for name, value in request.path_params.items():
        if isinstance(value, str):
            check_storable(value, name, code="invalid_input")
    for name, value in request.query_params.multi_items():
        check_storable(name, "a query parameter's name", code="invalid_input")
        check_storable(value, name, code="invalid_input")
    for name, value in request.headers.items():
        check_storable(value, f"the {name} header", code="invalid_input")
