"""Errors the services raise. Each carries the status and machine code the API reports;
`app.py` turns them into `{"success": false, "error", "code", ...}`."""

from typing import Any


class DomainError(Exception):
    status_code = 400
    code = "bad_request"

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


class UnsupportedImage(DomainError):
    status_code = 415
    code = "unsupported_image"
