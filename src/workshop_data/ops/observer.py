"""Times every request, gives it a request id, logs it and counts it; and answers, in the
common error shape, whatever escaped every handler: 503 `database_unavailable` when the
database is not there, otherwise a bare 500. A client that went away mid-request is logged as
such (status 499, as nginx calls it), not as an error."""

import logging
import re
import time
import uuid

from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from workshop_data.db.availability import is_database_unavailable
from workshop_data.errors import DatabaseUnavailable, error_body
from workshop_data.ops.logging import REQUEST_LOGGER
from workshop_data.ops.metrics import LATENCY, REQUESTS

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
CLIENT_CLOSED_REQUEST = 499
log = logging.getLogger(REQUEST_LOGGER)
errors_log = logging.getLogger("workshop_data")


def _route_template(scope: Scope) -> str:
    """The matched route's template (/api/workshop-data/step/{workshopType}/{stepId}), so
    that metrics do not grow a series per step id; unmatched paths are one series."""
    route = scope.get("route")
    path = getattr(route, "path", None) or getattr(route, "path_format", None)
    if isinstance(path, str):
        return path
    return "static" if not scope["path"].startswith("/api/") else "unmatched"


class RequestObserver:
    def __init__(self, app: ASGIApp, *, response_headers: list[tuple[bytes, bytes]]) -> None:
        self.app = app
        # The headers every response carries; the error responses sent from here too.
        self.response_headers = response_headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = Headers(scope=scope).get("x-request-id", "")
        request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except ClientDisconnect:
            status = CLIENT_CLOSED_REQUEST
        except Exception as error:
            if response_started:
                raise
            status = await self._answer_failure(scope, error, request_id, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_template(scope)
            REQUESTS.labels(scope["method"], route, str(status)).inc()
            LATENCY.labels(scope["method"], route).observe(elapsed)
            log.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": scope["method"],
                    "path": scope["path"],
                    "route": route,
                    "status": status,
                    "latency_ms": round(elapsed * 1000, 2),
                    "user_id": scope.get("state", {}).get("user_id"),
                },
            )

    async def _answer_failure(
        self, scope: Scope, error: Exception, request_id: str, send: Send
    ) -> int:
        where = {"request_id": request_id}
        headers = [*self.response_headers, (b"cache-control", b"no-store")]
        if is_database_unavailable(error):
            # No traceback: the cause is outside the process. The engines hide statement
            # parameters, so no password hash or token hash can appear here either.
            errors_log.warning(
                "database unavailable on %s %s: %s",
                scope["method"],
                scope["path"],
                type(error).__name__,
                extra=where,
            )
            status = DatabaseUnavailable.status_code
            body = error_body(
                "The database is not available right now; nothing was changed. Try again shortly.",
                DatabaseUnavailable.code,
            )
            headers.append((b"retry-after", str(DatabaseUnavailable.retry_after_seconds).encode()))
        else:
            errors_log.exception(
                "unhandled error on %s %s", scope["method"], scope["path"], extra=where
            )
            status = 500
            body = error_body(
                "Something went wrong on our side; the request was not completed.",
                "internal_error",
            )
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    *headers,
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
        return status
