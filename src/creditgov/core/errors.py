"""Domain errors: plain exceptions, translated to exit codes or HTTP statuses at the edge.

An error may carry a stable `code` (e.g. `finance.loan.not_found`) and its `params`
(the values the message names). The English message is for the API, the CLI and the
logs, and may be reworded; a page that says an error in the reader's language looks
the code up in its catalogue and fills in the params, never matching the message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class CreditGovError(Exception):
    """Base of every error the product reports to a user. `http_status` is the status
    the edge answers it with (the API's problem, a page's refusal): one table, read
    by both through `status_of`."""

    http_status = 400

    def __init__(self, *args: Any, code: str | None = None, params: Mapping[str, Any] | None = None) -> None:
        super().__init__(*args)
        self.code = code
        self.params: dict[str, Any] = dict(params or {})


class NotFound(CreditGovError):
    http_status = 404


class InvalidInput(CreditGovError):
    """Input that breaks a rule; the message says which rule."""

    http_status = 422


class Conflict(CreditGovError):
    """The state changed under the request (another decision came first): retrying the
    same request cannot succeed, and reading the current state again tells why."""

    http_status = 409


class ConfigError(CreditGovError):
    """A configuration or spec file that does not validate; the message names the file."""

    http_status = 500


class ServerFault(ConfigError):
    """The deployment failed underneath a request (a storage place, a store's copy):
    the command line prints the message, the API logs it with its traceback and answers
    500 without the detail (it may name hosts and paths)."""


class IntegrityError(CreditGovError):
    """Stored data that fails a check (e.g. a broken audit chain)."""

    http_status = 409


def status_of(exc: BaseException) -> int:
    """The HTTP status of an error at the edge: its class's `http_status` (the most
    derived class that sets one, by Python's method order), 500 for anything that is
    not the product's own error."""
    return exc.http_status if isinstance(exc, CreditGovError) else 500
