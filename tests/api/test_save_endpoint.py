"""POST /api/workshop-data/step is served by the plain Starlette route of
`step_data/save_endpoint.py`, in front of the FastAPI route that documents it."""

from fastapi.routing import APIRoute
from starlette.routing import Match

from tests.conftest import Backend
from workshop_data.app import create_app
from workshop_data.step_data import save_endpoint
from workshop_data.step_data.router import router as step_routes

SAVE = "/api/workshop-data/step"


def _scope(method: str) -> dict[str, object]:
    return {"type": "http", "method": method, "path": SAVE, "root_path": "", "headers": []}


async def test_the_save_is_served_by_the_plain_route_and_documented_by_fastapi(
    backend: Backend,
) -> None:
    app = create_app(backend.settings())
    try:
        served_by = next(r for r in app.router.routes if r.matches(_scope("POST"))[0] is Match.FULL)
        assert served_by is save_endpoint.route
        documented = [r for r in step_routes.routes if isinstance(r, APIRoute) and r.path == SAVE]
        assert [sorted(r.methods) for r in documented] == [["POST"]]
        assert documented[0].endpoint is save_endpoint.router.save_step
        operation = app.openapi()["paths"][SAVE]["post"]
        assert operation["operationId"] == documented[0].unique_id
        # Any other method on the path is still only a partial match (405), as before.
        assert save_endpoint.route.matches(_scope("GET"))[0] is Match.PARTIAL
    finally:
        await app.state.engine.dispose()
