"""The documents domain's permission rows: the credit office prints list notices and
decisions for any list; nobody else prints on the office's behalf."""

from creditgov.security.scopes import Role, Scope

PERMISSIONS: dict[str, dict[Role, Scope]] = {
    "documents.print": {Role.CREDIT_OFFICE: Scope.ALL},
}
