"""The ingest domain's permission rows for manual entry and for sending files (added to
`security.scopes.PERMISSIONS` by the composition root). A department officer enters its
own department's records; the credit office enters any and approves; the administrator
approves too. The service refuses the person who entered an entry as its approver. A
department officer sends the files of its own department's sources through the pages or
the API (`uploads.py`), the credit office any source's."""

from creditgov.security.scopes import Role, Scope

A, D = Scope.ALL, Scope.DEPARTMENT

PERMISSIONS: dict[str, dict[Role, Scope]] = {
    "manual.read": {Role.ADMIN: A, Role.CREDIT_OFFICE: A, Role.DEPARTMENT: D},
    "manual.propose": {Role.CREDIT_OFFICE: A, Role.DEPARTMENT: D},
    "manual.approve": {Role.ADMIN: A, Role.CREDIT_OFFICE: A},
    "ingest.upload": {Role.CREDIT_OFFICE: A, Role.DEPARTMENT: D},
}
