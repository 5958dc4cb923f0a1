"""The ClientbookError tree: a message for the user, an HTTP status and a CLI exit code.

Exit codes (documented in the README):

====  ==========================================
0     success
1     unexpected internal error (a bug: please report it)
2     usage error (bad option or argument)
3     invalid input data (file rows that failed validation)
4     not found (unknown customer, key, segment, ...)
5     database unreachable or not initialised
6     conflict (the operation clashes with existing state)
7     not permitted (missing or wrong credentials)
====  ==========================================
"""

from __future__ import annotations


class ClientbookError(Exception):
    """Base of every error whose message is meant for the user."""

    status_code = 500
    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}" if self.hint else self.message

    def to_json(self) -> dict[str, object]:
        """The one JSON error body of the API."""
        return {"ok": False, "error": str(self), "status": self.status_code}


class UsageError(ClientbookError):
    """A bad option, argument or parameter."""

    status_code = 400
    exit_code = 2


class InvalidInput(ClientbookError):
    """Input data failed validation; ``problems`` lists what was wrong."""

    status_code = 422
    exit_code = 3

    def __init__(
        self, message: str, *, problems: list[str] | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.problems = problems or []


class NotFound(ClientbookError):
    """The thing asked for does not exist."""

    status_code = 404
    exit_code = 4


class StoreUnavailable(ClientbookError):
    """The database cannot be reached, or its schema is missing or outdated."""

    status_code = 503
    exit_code = 5


class Conflict(ClientbookError):
    """The operation clashes with existing state."""

    status_code = 409
    exit_code = 6


class NotPermitted(ClientbookError):
    """Missing or wrong credentials, or a role without the right."""

    status_code = 401
    exit_code = 7


class Forbidden(NotPermitted):
    """Authenticated, but the role may not do this."""

    status_code = 403
