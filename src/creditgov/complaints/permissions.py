"""The complaints domain's permission rows. The office takes complaints at the counter
and through the API, assigns and answers any; a department officer reads and answers
the complaints assigned to its department (scope `department`: the service narrows
by `department_code`). A special supervisor (特约监督员) files observations, which
enter the same procedure marked with their source (scope `published`: a supervisor
reads only what the public reads), and follows its own observations. Filing from the public page needs no permission (rate-limited
like every public page)."""

from creditgov.security.scopes import Role, Scope

A, D, P = Scope.ALL, Scope.DEPARTMENT, Scope.PUBLISHED

PERMISSIONS: dict[str, dict[Role, Scope]] = {
    "complaints.read": {Role.ADMIN: A, Role.CREDIT_OFFICE: A, Role.DEPARTMENT: D},
    "complaints.file": {Role.CREDIT_OFFICE: A, Role.DEPARTMENT: D},
    "complaints.assign": {Role.CREDIT_OFFICE: A},
    "complaints.reply": {Role.CREDIT_OFFICE: A, Role.DEPARTMENT: D},
    "complaints.observe": {Role.SUPERVISOR: P},
}
