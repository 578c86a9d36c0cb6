"""The complaints domain's permission rows. The office takes complaints at the counter
and through the API, assigns and answers any; a department officer reads and answers
the complaints assigned to its department (scope `department`: the service narrows
by `department_code`). Filing from the public page needs no permission (rate-limited
like every public page)."""

from creditgov.security.scopes import Role, Scope

A, D = Scope.ALL, Scope.DEPARTMENT

PERMISSIONS: dict[str, dict[Role, Scope]] = {
    "complaints.read": {Role.ADMIN: A, Role.CREDIT_OFFICE: A, Role.DEPARTMENT: D},
    "complaints.file": {Role.CREDIT_OFFICE: A, Role.DEPARTMENT: D},
    "complaints.assign": {Role.CREDIT_OFFICE: A},
    "complaints.reply": {Role.CREDIT_OFFICE: A, Role.DEPARTMENT: D},
}
