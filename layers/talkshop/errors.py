"""Domain errors. Each carries the HTTP status and machine-readable code the API answers with."""

from __future__ import annotations

from typing import Any


class TalkshopError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details

    def to_body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            error["details"] = self.details
        return {"error": error}


class InvalidInput(TalkshopError):
    status = 422
    code = "validation_error"


class Unauthorized(TalkshopError):
    status = 401
    code = "unauthorized"


class Forbidden(TalkshopError):
    status = 403
    code = "forbidden"


class NotFound(TalkshopError):
    status = 404
    code = "not_found"


class Conflict(TalkshopError):
    status = 409
    code = "conflict"


class PreconditionFailed(TalkshopError):
    status = 412
    code = "version_mismatch"
