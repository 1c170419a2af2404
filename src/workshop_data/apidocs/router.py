"""The API's documentation at /api/docs: Swagger UI from this origin only, under the same
Content-Security-Policy as everything else (no inline script, no CDN). Its assets are the
pinned `swagger-ui-dist` package, copied into the web app's build (web/dist/swagger-ui).
FastAPI's usual addresses (/docs, /redoc, /openapi.json) redirect here."""

from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.responses import FileResponse, RedirectResponse

from workshop_data.app_services import services_of
from workshop_data.errors import NotFound

router = APIRouter(prefix="/api/docs", include_in_schema=False)
redirects = APIRouter(include_in_schema=False)

_INIT_SCRIPT = Path(__file__).with_name("init.js")
_ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
}
_PAGE = """<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>Workshop Data API</title>
    <link rel="stylesheet" href="/api/docs/swagger-ui.css">
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="/api/docs/swagger-ui-bundle.js"></script>
    <script src="/api/docs/init.js"></script>
  </body>
</html>
"""


def swagger_ui_dir(request: Request) -> Path:
    static_dir: Path = services_of(request.app).static_dir
    return static_dir / "swagger-ui"


@router.get("")
async def docs_page(request: Request) -> Response:
    if not (swagger_ui_dir(request) / "swagger-ui-bundle.js").is_file():
        raise NotFound("The API docs need the built web app (cd web && npm run build).")
    return Response(_PAGE, media_type="text/html; charset=utf-8")


@router.get("/init.js")
async def init_script() -> Response:
    return FileResponse(_INIT_SCRIPT, media_type="text/javascript; charset=utf-8")


@router.get("/{asset}")
async def asset(asset: str, request: Request) -> Response:
    path = swagger_ui_dir(request) / asset
    if asset not in _ASSETS or not path.is_file():
        raise NotFound("There is nothing at this address.")
    return FileResponse(path, media_type=_ASSETS[asset])


def _moved(target: str) -> Callable[[Request], Coroutine[Any, Any, Response]]:
    async def redirect(request: Request) -> Response:
        query = request.url.query
        # 308: moved for good, and a HEAD is still a HEAD at the new address.
        return RedirectResponse(f"{target}?{query}" if query else target, status_code=308)

    return redirect


for _old, _new in (
    ("/docs", "/api/docs"),
    ("/redoc", "/api/docs"),
    ("/openapi.json", "/api/openapi.json"),
):
    redirects.add_api_route(_old, _moved(_new), methods=["GET", "HEAD"])
