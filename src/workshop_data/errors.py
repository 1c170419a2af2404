"""Errors the services raise. Each carries the status and machine code the API reports;
`app.py` turns them into `{"success": false, "error", "code", ...}`."""

from typing import Any

import orjson


class DomainError(Exception):
    status_code = 400
    code = "bad_request"
    # Sent as Retry-After when set.
    retry_after_seconds: int | None = None

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidInput(DomainError):
    code = "invalid_input"

    def __init__(self, message: str, code: str = "invalid_input", **details: Any) -> None:
        super().__init__(message, **details)
        self.code = code


class NotAuthenticated(DomainError):
    status_code = 401
    code = "not_authenticated"


class InvalidCredentials(NotAuthenticated):
    code = "invalid_credentials"


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class VersionNotFound(NotFound):
    code = "version_not_found"


class WorkshopNotStarted(NotFound):
    code = "workshop_not_started"


class Conflict(DomainError):
    status_code = 409

    def __init__(self, message: str, code: str, **details: Any) -> None:
        super().__init__(message, **details)
        self.code = code


class PayloadTooLarge(DomainError):
    status_code = 413
    code = "payload_too_large"


class WorkshopLocked(DomainError):
    status_code = 423
    code = "workshop_locked"


class RateLimited(DomainError):
    status_code = 429
    code = "rate_limited"

    def __init__(self, message: str, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class ServiceBusy(DomainError):
    """A write lost its compare-and-swap race more often than we retry; the client may retry."""

    status_code = 503
    code = "busy"
    retry_after_seconds = 1


class HashingBusy(ServiceBusy):
    """More sign-ins wait for the password hashing threads than they may."""

    retry_after_seconds = 2


class NotReady(DomainError):
    """The readiness check failed: the database or the schema is not there yet."""

    status_code = 503
    code = "not_ready"


class DatabaseUnavailable(DomainError):
    """The database did not answer; nothing was written and the client may retry."""

    status_code = 503
    code = "database_unavailable"
    retry_after_seconds = 5


def error_body(message: str, code: str, **details: object) -> bytes:
    """`{"success": false, "error", "code", ...}` as JSON. Never fails on the text it reports:
    whatever cannot be encoded (a lone surrogate in a reported key) is shown escaped."""
    document = {"success": False, "error": message, "code": code, **details}
    try:
        return orjson.dumps(document)
    except TypeError:
        return orjson.dumps(_shown(document))


def _shown(value: object) -> object:
    if isinstance(value, str):
        return shown(value)
    if isinstance(value, dict):
        return {_shown(key): _shown(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_shown(item) for item in value]
    if isinstance(value, int | float | bool) or value is None:
        return value
    return shown(str(value))


def _is_surrogate(char: str) -> bool:
    return "\ud800" <= char <= "\udfff"


def shown(text: str) -> str:
    """`text` as it can always be written into an error message or a log line: characters
    that cannot be encoded (lone surrogates) and control characters become `\\uXXXX`."""
    if text.isascii() and text.isprintable():
        return text
    return "".join(
        char
        if char.isprintable() and not _is_surrogate(char)
        else f"\\u{ord(char):04x}"
        if ord(char) <= 0xFFFF
        else f"\\U{ord(char):08x}"
        for char in text
    )


class UnsupportedImage(DomainError):
    status_code = 415
    code = "unsupported_image"
