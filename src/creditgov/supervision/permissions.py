"""The campaigns' permission rows (专项整治): the credit office and administrators read
every campaign, a department its own; the office runs any campaign and a department
its own (the services check which, given the acting department). Results of a
campaign's tasks are recorded like any inspection's (`inspections.record`)."""

from creditgov.security.scopes import Role, Scope

PERMISSIONS: dict[str, dict[Role, Scope]] = {
    "campaigns.read": {Role.ADMIN: Scope.ALL, Role.CREDIT_OFFICE: Scope.ALL, Role.DEPARTMENT: Scope.DEPARTMENT},
    "campaigns.manage": {Role.CREDIT_OFFICE: Scope.ALL, Role.DEPARTMENT: Scope.DEPARTMENT},
}
