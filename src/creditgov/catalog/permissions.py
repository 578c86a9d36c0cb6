"""The catalogue domain's permission rows for data requests (added to
`security.scopes.PERMISSIONS` by the composition root). The credit office (and the
administrator) file requests and read them all; a department officer reads the
requests made of its own department and decides them — no one else decides, so the
office cannot approve what it asked for (the service checks the unit too)."""

from creditgov.security.scopes import Role, Scope

A, D = Scope.ALL, Scope.DEPARTMENT

PERMISSIONS: dict[str, dict[Role, Scope]] = {
    "data_requests.read": {Role.ADMIN: A, Role.CREDIT_OFFICE: A, Role.DEPARTMENT: D},
    "data_requests.file": {Role.ADMIN: A, Role.CREDIT_OFFICE: A},
    "data_requests.decide": {Role.DEPARTMENT: D},
}
