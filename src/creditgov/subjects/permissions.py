"""The subjects domain's permission rows for correcting a subject's data and merging
duplicates (added to `security.scopes.PERMISSIONS` by the composition root). The credit
office proposes; the credit office or the administrator approves and undoes. The
service refuses the proposer as the approver."""

from creditgov.security.scopes import Role, Scope

A = Scope.ALL

PERMISSIONS: dict[str, dict[Role, Scope]] = {
    "subject_changes.read": {Role.ADMIN: A, Role.CREDIT_OFFICE: A},
    "subject_changes.propose": {Role.CREDIT_OFFICE: A},
    "subject_changes.approve": {Role.ADMIN: A, Role.CREDIT_OFFICE: A},
}
