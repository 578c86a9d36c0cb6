"""Domain errors: plain exceptions, translated to exit codes or HTTP statuses at the edge."""


class CreditGovError(Exception):
    """Base of every error the product reports to a user."""


class NotFound(CreditGovError):
    pass


class InvalidInput(CreditGovError):
    """Input that breaks a rule; the message says which rule."""


class Conflict(CreditGovError):
    """The state changed under the request (another decision came first): retrying the
    same request cannot succeed, and reading the current state again tells why."""


class ConfigError(CreditGovError):
    """A configuration or spec file that does not validate; the message names the file."""


class IntegrityError(CreditGovError):
    """Stored data that fails a check (e.g. a broken audit chain)."""
