"""POST /api/workshop-data/step is served by the plain Starlette route of
step_data/plain_route.py (router.py's `plain_save_route`), in front of the FastAPI route that
documents it and whose endpoint it calls with the dependencies FastAPI would resolve."""

from fastapi.routing import APIRoute
from starlette.routing import Match

from tests.support import Backend
from workshop_data import deps
from workshop_data.app import create_app
from workshop_data.step_data import router as step_router

SAVE = "/api/workshop-data/step"


def _scope(method: str) -> dict[str, object]:
    return {"type": "http", "method": method, "path": SAVE, "root_path": "", "headers": []}


async def test_the_save_is_served_by_the_plain_route_and_documented_by_fastapi(
    backend: Backend,
) -> None:
    app = create_app(backend.settings())
    try:
        served_by = next(r for r in app.router.routes if r.matches(_scope("POST"))[0] is Match.FULL)
        assert served_by is step_router.plain_save_route
        documented = [
            r for r in step_router.router.routes if isinstance(r, APIRoute) and r.path == SAVE
        ]
        assert [sorted(r.methods or ()) for r in documented] == [["POST"]]
        assert documented[0].endpoint is step_router.save_step
        operation = app.openapi()["paths"][SAVE]["post"]
        assert operation["operationId"] == documented[0].unique_id
        # Any other method on the path is still only a partial match (405), as before.
        assert step_router.plain_save_route.matches(_scope("GET"))[0] is Match.PARTIAL
    finally:
        await app.state.engine.dispose()


async def test_the_plain_route_resolves_what_fastapi_would(backend: Backend) -> None:
    # The plain route calls the app's dependency and these by hand, in this order; a
    # dependency added to save_step must be added there too, or this fails.
    app = create_app(backend.settings())
    try:
        assert [dependency.dependency for dependency in app.router.dependencies] == [
            deps.check_request_text
        ]
        documented = next(
            r for r in step_router.router.routes if isinstance(r, APIRoute) and r.path == SAVE
        )
        resolved = [dependency.call for dependency in documented.dependant.dependencies]
        assert resolved == [
            deps.get_session_credential,
            deps.get_db,
            deps.get_catalog,
            deps.get_json_limits,
            deps.get_upload_store,
            deps.get_history_policy,
        ]
        assert [param.name for param in documented.dependant.header_params] == [
            "idempotency_key",
            "if_match",
        ]
    finally:
        await app.state.engine.dispose()
