"""The service-hall windows' permission row: the credit office's window staff serve
visitors (any subject in the county, once the visitor has signed in at the counter);
what they do there is the visitor's own view and objection, audited with both names."""

from creditgov.security.scopes import Role, Scope

PERMISSIONS: dict[str, dict[Role, Scope]] = {
    "hall.serve": {Role.CREDIT_OFFICE: Scope.ALL},
}
