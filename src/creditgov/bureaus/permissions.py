"""The bureau export's permission rows (added to `security.scopes.PERMISSIONS` by the
composition root). Runs carry credit information out of the platform: seeing them,
starting one and recording a bureau's acknowledgement are the credit office's and the
administrator's alone."""

from creditgov.security.scopes import Role, Scope

A = Scope.ALL

PERMISSIONS: dict[str, dict[Role, Scope]] = {
    "bureaus.read": {Role.ADMIN: A, Role.CREDIT_OFFICE: A},
    "bureaus.manage": {Role.ADMIN: A, Role.CREDIT_OFFICE: A},
}
