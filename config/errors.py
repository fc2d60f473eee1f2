"""The project's base for domain errors.

Each error carries a machine `code`, a message a person understands
(German by default, through i18n) and the HTTP status an interface maps it
to. Services raise them; interfaces translate, never swallow, them.
"""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    http_status = 400
    default_code = "invalid"

    def __init__(
        self, message: Any, *, code: str | None = None, fields: dict[str, Any] | None = None
    ) -> None:
        super().__init__(str(message))
        self.message = message
        self.code = code or self.default_code
        self.fields = fields or {}

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "detail": str(self.message)}
        if self.fields:
            body["fields"] = {k: [str(m) for m in v] for k, v in self.fields.items()}
        return body


class InvalidInput(ApplicationError):
    http_status = 400
    default_code = "invalid"


class Forbidden(ApplicationError):
    http_status = 403
    default_code = "forbidden"


class NotFound(ApplicationError):
    http_status = 404
    default_code = "not_found"


class Conflict(ApplicationError):
    http_status = 409
    default_code = "conflict"
