import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from workshop_data.admin.router import router as admin_router
from workshop_data.apidocs.router import redirects as apidocs_redirects
from workshop_data.apidocs.router import router as apidocs_router
from workshop_data.assessments.router import router as assessments_router
from workshop_data.auth.router import router as auth_router
from workshop_data.auth.service import SessionTouches
from workshop_data.auth.throttle import LoginThrottle
from workshop_data.catalog.router import router as catalog_router
from workshop_data.catalog.service import load_catalog
from workshop_data.db.engine import POOL_RECYCLE_SECONDS, autocommit_engine, create_engine
from workshop_data.db.kept_connections import KeptConnections
from workshop_data.deps import check_request_text
from workshop_data.errors import DomainError, error_body
from workshop_data.events.directory import Directory
from workshop_data.events.hub import StreamHub
from workshop_data.events.router import router as events_router
from workshop_data.events.service import PresenceLimiter
from workshop_data.events.shared_bus import RedisBus, make_bus
from workshop_data.export.router import router as export_router
from workshop_data.facilitator.router import router as facilitator_router
from workshop_data.json_input import JsonLimits
from workshop_data.middleware import SECURITY_HEADERS, BodyRule, RequestGuard
from workshop_data.navigation.router import router as navigation_router
from workshop_data.openapi import document_json_bodies, install_openapi
from workshop_data.ops.logging import configure_logging
from workshop_data.ops.observer import RequestObserver
from workshop_data.ops.router import router as ops_router
from workshop_data.participation.router import router as participation_router
from workshop_data.settings import Settings
from workshop_data.step_data.history import HistoryPolicy
from workshop_data.step_data.router import plain_patch_route, plain_save_route
from workshop_data.step_data.router import router as step_data_router
from workshop_data.uploads.router import router as uploads_router
from workshop_data.uploads.schemas import UPLOAD_CONTENT_TYPES
from workshop_data.uploads.storage import DatabaseUploadStore
from workshop_data.users.passwords import PasswordHashing

log = logging.getLogger("workshop_data")

_REPO_WEB_DIST = Path(__file__).resolve().parents[2] / "web" / "dist"
_STATUS_MESSAGES = {
    404: ("There is nothing at this address.", "not_found"),
    405: ("This address does not accept that method.", "method_not_allowed"),
}


def _error(status: int, message: str, code: str, **details: object) -> Response:
    return Response(
        error_body(message, code, **details),
        status_code=status,
        media_type="application/json",
    )


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(_request: Request, exc: DomainError) -> Response:
        response = _error(exc.status_code, exc.message, exc.code, **_camel(exc.details))
        if exc.retry_after_seconds is not None:
            response.headers["Retry-After"] = str(exc.retry_after_seconds)
        return response

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(part) for part in first["loc"] if part not in ("body", "path"))
        return _error(400, f"{where or 'request'}: {first['msg']}", "invalid_input")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> Response:
        message, code = _STATUS_MESSAGES.get(exc.status_code, ("The request failed.", "error"))
        response = _error(exc.status_code, message, code)
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    # Errors that escape every handler are answered by the RequestObserver (503 when the
    # database is unavailable, else 500); this is the last resort should that fail too.
    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception) -> Response:
        request_id = getattr(request.state, "request_id", None)
        log.exception(
            "unhandled error on %s %s",
            request.method,
            request.url.path,
            extra={"request_id": request_id},
        )
        response = _error(
            500,
            "Something went wrong on our side; the request was not completed.",
            "internal_error",
        )
        if request_id is not None:
            response.headers["X-Request-ID"] = request_id
        return response


def _camel(details: dict[str, object]) -> dict[str, object]:
    def camel(name: str) -> str:
        head, *rest = name.split("_")
        return head + "".join(part.title() for part in rest)

    return {camel(key): value for key, value in details.items()}


class SinglePageApp(StaticFiles):
    """Static files; any other path gets index.html so client routes survive reload."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        try:
            return await super().get_response(path, scope)
        except StarletteHTTPException as exc:
            if exc.status_code != 404:
                raise
            return await super().get_response("index.html", scope)


def _is_api_path(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


def _fallback(web_app: ASGIApp | None, not_found: ASGIApp) -> ASGIApp:
    """What the router runs when no route matches the path (a path some route matches with
    another method is a 405 before this): under /api/, the router's own 404, in the API's
    error shape; elsewhere, the web app, which answers its client routes with index.html."""

    async def not_routed(scope: Scope, receive: Receive, send: Send) -> None:
        if web_app is None or scope["type"] != "http" or _is_api_path(scope["path"]):
            await not_found(scope, receive, send)
        else:
            await web_app(scope, receive, send)

    return not_routed


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    engine = create_engine(settings)

    @asynccontextmanager
    async def lifespan(application: FastAPI) -> AsyncIterator[None]:
        # Listening from the start: a resume finds every event since this process began.
        await application.state.stream_hub.start()
        yield
        await close_app(application)

    app = FastAPI(
        title="Workshop Data",
        version="1.0",
        lifespan=lifespan,
        # /api/docs is served by apidocs/router.py from local assets (no inline script).
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
        openapi_url="/api/openapi.json",
        # Metrics are our own (/metrics) and every request is logged by ops/observer.py;
        # FastAPI's OpenTelemetry checks would cost each request a look at the environment.
        telemetry={"tracing": False, "metrics": False, "logs": False},
        # Before any route's own dependencies: no text that cannot be stored gets further.
        dependencies=[Depends(check_request_text)],
    )
    app.state.settings = settings
    static_dir = settings.static_dir or _REPO_WEB_DIST
    app.state.static_dir = static_dir
    app.state.engine = engine
    app.state.autocommit_engine = autocommit_engine(engine, settings)
    # Up to half the pool stays with the requests between them; the rest is always there
    # for whoever needs one.
    app.state.kept_connections = KeptConnections(
        app.state.autocommit_engine,
        keep=max(1, settings.database_pool_size // 2),
        max_age_seconds=POOL_RECYCLE_SECONDS,
    )
    app.state.session_touches = SessionTouches()
    app.state.catalog = load_catalog(settings.catalog_path)
    app.state.json_limits = JsonLimits.from_settings(settings)
    app.state.history_policy = HistoryPolicy(
        settings.history_versions, settings.history_hourly_days
    )
    app.state.upload_store = DatabaseUploadStore()
    app.state.event_bus = make_bus(settings)
    app.state.stream_hub = StreamHub(
        app.state.event_bus,
        Directory(app.state.autocommit_engine, settings.events_scope_cache_seconds),
        retention=settings.events_retention,
        max_streams=settings.events_max_streams,
        max_streams_per_user=settings.events_max_streams_per_user,
        retry_ms=settings.events_retry_ms,
    )
    app.state.presence_limiter = PresenceLimiter()
    app.state.login_throttle = LoginThrottle(
        account_address_limit=settings.login_account_address_rate_limit,
        address_limit=settings.login_address_rate_limit,
        account_limit=settings.login_account_rate_limit,
        storage_url=settings.rate_limit_storage_url,
    )
    app.state.password_hasher = PasswordHashing(
        concurrency=settings.password_hash_concurrency,
        max_waiting=settings.password_hash_max_waiting,
        max_wait_seconds=settings.password_hash_max_wait_seconds,
    )
    _install_error_handlers(app)
    install_openapi(
        app, app.state.catalog, settings.session_cookie_name, settings.device_cookie_name
    )
    for router in (
        auth_router,
        catalog_router,
        step_data_router,
        participation_router,
        ops_router,
        apidocs_router,
        apidocs_redirects,
    ):
        document_json_bodies(router)
        app.include_router(router)
    for router in (
        navigation_router,
        assessments_router,
        export_router,
        admin_router,
        facilitator_router,
        uploads_router,
        events_router,
    ):
        document_json_bodies(router)
        app.include_router(router)
    # Matched before the FastAPI routes of the same paths, which document them.
    app.router.routes[:0] = [plain_save_route, plain_patch_route]
    app.add_middleware(
        RequestGuard,
        max_body_bytes=settings.max_body_bytes,
        allowed_origins=settings.allowed_origins,
        body_rules=[
            BodyRule(
                "POST",
                "/api/uploads",
                settings.max_upload_bytes,
                UPLOAD_CONTENT_TYPES,
                "Send the image itself as the request body, labelled image/png, image/jpeg, "
                "image/webp, image/gif or application/octet-stream.",
            )
        ],
    )
    # Added last, so outermost: requests the guard refuses are timed and logged too.
    app.add_middleware(RequestObserver, response_headers=SECURITY_HEADERS)
    web_app = (
        SinglePageApp(directory=static_dir, html=True)
        if (static_dir / "index.html").is_file()
        else None
    )
    app.router.default = _fallback(web_app, app.router.default)
    return app


async def close_app(app: FastAPI) -> None:
    """Release what the app holds: its kept connections, its engine's pool (and its SQLite
    writer), the password hashing threads. The end of the app's lifespan; a test that builds an
    app without serving it calls it when done."""
    app.state.password_hasher.shutdown()
    await app.state.stream_hub.stop()
    if isinstance(app.state.event_bus, RedisBus):
        await app.state.event_bus.close()
    await app.state.kept_connections.close()
    await app.state.engine.dispose()


def create_app_from_environment() -> FastAPI:
    """The factory `workshop-data serve` hands to uvicorn (once per worker process)."""
    settings = Settings()
    configure_logging(settings.log_level)
    app = create_app(settings)
    # Everything built so far (the modules, the app, its routes and models) lives as long as
    # the worker: kept out of the cyclic collector's full passes, which walked all of it and
    # paused the worker for tens of milliseconds (the p99 at half the peak: docs/benchmarks.md).
    gc.freeze()
    return app
