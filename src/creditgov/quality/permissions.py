"""The data-quality view's permission: the credit office and administrators, who chase
the departments' late or dirty sources."""

from creditgov.security.scopes import Role, Scope

PERMISSIONS: dict[str, dict[Role, Scope]] = {
    "quality.read": {Role.ADMIN: Scope.ALL, Role.CREDIT_OFFICE: Scope.ALL},
}
