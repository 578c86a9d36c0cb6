"""The statistics forms' permission: the credit office (and administrators) report the
whole county upward; a department officer sees the form for the subjects it has
records on, a grid worker for its grid (the dashboard's scopes)."""

from creditgov.security.scopes import Role, Scope

PERMISSIONS: dict[str, dict[Role, Scope]] = {
    "statistics.read": {Role.ADMIN: Scope.ALL, Role.CREDIT_OFFICE: Scope.ALL, Role.DEPARTMENT: Scope.DEPARTMENT,
                        Role.GRID: Scope.REGION},
}
