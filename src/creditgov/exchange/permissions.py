"""The exchange's permission rows (added to `security.scopes.PERMISSIONS` by the
composition root; `exchange.read` is the security domain's own row). Binding peers,
running a cycle and retrying are the credit office's and the administrator's."""

from creditgov.security.scopes import Role, Scope

A = Scope.ALL

PERMISSIONS: dict[str, dict[Role, Scope]] = {
    "exchange.manage": {Role.ADMIN: A, Role.CREDIT_OFFICE: A},
}
