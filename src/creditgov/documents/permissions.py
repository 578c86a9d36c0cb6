"""The documents domain's permission rows: the credit office prints list notices and
decisions for any list; nobody else prints on the office's behalf. Inspection notices
(检查通知书) are printed by the credit office for any draw and by a department officer
for its own department's inspections only (`inspections.tasks_for` holds the rule)."""

from creditgov.security.scopes import Role, Scope

PERMISSIONS: dict[str, dict[Role, Scope]] = {
    "documents.print": {Role.CREDIT_OFFICE: Scope.ALL},
    "documents.inspections": {Role.CREDIT_OFFICE: Scope.ALL, Role.DEPARTMENT: Scope.DEPARTMENT},
}
