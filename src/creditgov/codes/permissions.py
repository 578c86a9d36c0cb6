"""The credit code's permission rows (added to `security.scopes.PERMISSIONS` by the
composition root). A subject issues and sees its own code; the office issues any
(at its counter, for a subject in person) and manages keys, trust and revocation.
Verifying needs no permission: a code is meant to be shown to anyone."""

from creditgov.security.scopes import Role, Scope

A, R, S = Scope.ALL, Scope.REGION, Scope.SELF

PERMISSIONS: dict[str, dict[Role, Scope]] = {
    # The subject's own page (/me/code) and its menu entry.
    "code.own": {Role.SUBJECT: S},
    "code.issue": {Role.ADMIN: A, Role.CREDIT_OFFICE: A, Role.GRID: R, Role.SUBJECT: S},
    "code.manage": {Role.ADMIN: A, Role.CREDIT_OFFICE: A},
}
