"""Checks every request passes before it reaches a route: body size, same-origin for unsafe
methods, JSON content types (or a route's own body rule); and headers every response carries."""

from collections.abc import Iterable
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from workshop_data.errors import PayloadTooLarge, error_body

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_SAME_SITE_FETCH = frozenset({"same-origin", "none"})
_JSON_TYPES = ("application/json", "application/merge-patch+json")
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Scripts, styles and everything else only from this origin: no inline script or style, no
# eval, no plugins; images may also be data: and blob: URLs (the image steps store data URLs).
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "worker-src 'self'",
        "manifest-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
]
_API_HEADERS = [(b"cache-control", b"no-store")]


class BodyTooLarge(PayloadTooLarge):
    pass


@dataclass(frozen=True)
class BodyRule:
    """A route whose body is not JSON: its own size limit (instead of the global one) and the
    content types it takes. Same-origin checks apply to it like to every unsafe method."""

    method: str
    path: str
    max_bytes: int
    content_types: frozenset[str]
    refusal: str


def _own_origin(scope: Scope, headers: Headers) -> str:
    scheme = scope.get("scheme", "http")
    host = headers.get("host")
    if host is None:
        server = scope.get("server") or ("localhost", _DEFAULT_PORTS.get(scheme, 80))
        port = server[1]
        host = server[0] if port == _DEFAULT_PORTS.get(scheme) else f"{server[0]}:{port}"
    return f"{scheme}://{host}".lower()


class RequestGuard:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        allowed_origins: Iterable[str],
        body_rules: Iterable[BodyRule] = (),
    ):
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.allowed_origins = frozenset(o.rstrip("/").lower() for o in allowed_origins)
        self.body_rules = {(rule.method, rule.path): rule for rule in body_rules}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        is_api = scope["path"].startswith("/api/")
        rule = self.body_rules.get((scope["method"], scope["path"]))
        limit = self.max_body_bytes if rule is None else rule.max_bytes
        refusal = self._refusal(scope, headers, is_api, rule, limit)
        if refusal is not None:
            status, message, code = refusal
            await _send_error(send, status, message, code)
            return
        await self.app(scope, _limited(receive, limit), _with_headers(send, is_api))

    def _refusal(
        self, scope: Scope, headers: Headers, is_api: bool, rule: BodyRule | None, limit: int
    ) -> tuple[int, str, str] | None:
        declared = headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            return (413, f"The request body is larger than {limit} bytes.", "payload_too_large")
        if scope["method"] not in UNSAFE_METHODS:
            return None
        if not self._same_origin(scope, headers):
            return 403, "Cross-site requests are not allowed.", "cross_site_request"
        has_body = (declared is not None and declared != "0") or "transfer-encoding" in headers
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if rule is not None:
            if content_type not in rule.content_types:
                return 415, rule.refusal, "unsupported_media_type"
        elif is_api and has_body and content_type not in _JSON_TYPES:
            return 415, "Send the request body as application/json.", "unsupported_media_type"
        return None

    def _same_origin(self, scope: Scope, headers: Headers) -> bool:
        origin = headers.get("origin")
        if origin is not None:
            origin = origin.rstrip("/").lower()
            return origin == _own_origin(scope, headers) or origin in self.allowed_origins
        # Browsers that send no Origin still say where a request came from here.
        return headers.get("sec-fetch-site", "same-origin").lower() in _SAME_SITE_FETCH


def _limited(receive: Receive, limit: int) -> Receive:
    """Counts the body as it arrives, so a chunked body without Content-Length is limited too."""
    received = 0

    async def limited_receive() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge(f"The request body is larger than {limit} bytes.")
        return message

    return limited_receive


def _with_headers(send: Send, is_api: bool) -> Send:
    extra = SECURITY_HEADERS + (_API_HEADERS if is_api else [])

    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            # A route that set one of these itself (an upload's caching) keeps its own.
            present = {name.lower() for name, _value in headers}
            message["headers"] = headers + [h for h in extra if h[0] not in present]
        await send(message)

    return send_with_headers


async def _send_error(send: Send, status: int, message: str, code: str) -> None:
    body = error_body(message, code)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
                *SECURITY_HEADERS,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
