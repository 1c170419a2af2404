"""POST /api/workshop-data/step and PATCH /api/workshop-data/step/{workshopType}/{stepId} are
served by the plain Starlette routes of step_data/plain_route.py (router.py's
`plain_save_route` and `plain_patch_route`), in front of the FastAPI routes that document
them and whose endpoints they call with the dependencies FastAPI would resolve."""

from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Match

from tests.support import Backend
from workshop_data import deps
from workshop_data.app import close_app, create_app
from workshop_data.catalog.service import MAX_STEP_ID_LENGTH
from workshop_data.step_data import router as step_router

SAVE = "/api/workshop-data/step"
PATCH = "/api/workshop-data/step/{workshopType}/{stepId}"
RESOLVED = [
    deps.get_session_credential,
    deps.get_db,
    deps.get_catalog,
    deps.get_json_limits,
    deps.get_upload_store,
    deps.get_history_policy,
    deps.get_event_bus,
]


def _scope(method: str, path: str) -> dict[str, object]:
    return {"type": "http", "method": method, "path": path, "root_path": "", "headers": []}


def _served_by(routes: list[BaseRoute], method: str, path: str) -> BaseRoute:
    return next(r for r in routes if r.matches(_scope(method, path))[0] is Match.FULL)


def _documented(path: str) -> APIRoute:
    return next(r for r in step_router.router.routes if isinstance(r, APIRoute) and r.path == path)


async def test_the_saves_are_served_by_the_plain_routes_and_documented_by_fastapi(
    backend: Backend,
) -> None:
    app = create_app(backend.settings())
    try:
        routes = app.router.routes
        assert _served_by(routes, "POST", SAVE) is step_router.plain_save_route
        step = "/api/workshop-data/step/ast/1-1"
        assert _served_by(routes, "PATCH", step) is step_router.plain_patch_route
        plain = (step_router.plain_save_route, step_router.plain_patch_route)
        # The other methods of the step's path are FastAPI's, as before.
        assert _served_by(routes, "GET", step) not in plain
        assert step_router.plain_save_route.matches(_scope("GET", SAVE))[0] is Match.PARTIAL
        # A step id longer than any step's is refused by FastAPI's route, as always.
        too_long = "/api/workshop-data/step/ast/" + "x" * (MAX_STEP_ID_LENGTH + 1)
        assert _served_by(routes, "PATCH", too_long) not in plain
        longest = "/api/workshop-data/step/ast/" + "x" * MAX_STEP_ID_LENGTH
        assert _served_by(routes, "PATCH", longest) is step_router.plain_patch_route
        openapi = app.openapi()["paths"]
        for path, method, endpoint in (
            (SAVE, "post", step_router.save_step),
            (PATCH, "patch", step_router.patch_step),
        ):
            documented = [
                r for r in step_router.router.routes if isinstance(r, APIRoute) and r.path == path
            ]
            assert method.upper() in {m for r in documented for m in (r.methods or ())}
            route = next(r for r in documented if method.upper() in (r.methods or ()))
            assert route.endpoint is endpoint
            assert openapi[path][method]["operationId"] == route.unique_id
    finally:
        await close_app(app)


async def test_the_plain_routes_resolve_what_fastapi_would(backend: Backend) -> None:
    # The plain routes call the app's dependency and these by hand, in this order; a
    # dependency added to save_step or patch_step must be added there too, or this fails.
    app = create_app(backend.settings())
    try:
        assert [dependency.dependency for dependency in app.router.dependencies] == [
            deps.check_request_text
        ]
        save = _documented(SAVE).dependant
        assert [dependency.call for dependency in save.dependencies] == RESOLVED
        assert [param.name for param in save.header_params] == [
            "idempotency_key",
            "if_match",
            "x_device_id",
        ]
        patch = next(
            r
            for r in step_router.router.routes
            if isinstance(r, APIRoute) and r.path == PATCH and "PATCH" in (r.methods or ())
        ).dependant
        assert [dependency.call for dependency in patch.dependencies] == RESOLVED
        assert [param.alias for param in patch.path_params] == ["workshopType", "stepId"]
        assert [param.name for param in patch.header_params] == [
            "idempotency_key",
            "if_match",
            "x_base_version",
            "x_schema_version",
            "x_device_id",
        ]
    finally:
        await close_app(app)
