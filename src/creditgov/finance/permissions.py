"""The finance domain's permission rows (added to `security.scopes.PERMISSIONS` by the
composition root). A bank officer acts for its own bank (its products, the needs
matched to them, its applications, loans and claims) and reads a subject's file only
under that subject's consent; a subject posts its own needs, gives and revokes its
consents and applies; the credit office approves products, runs the fund and reads
the statistics."""

from creditgov.security.scopes import Role, Scope

A, C, S = Scope.ALL, Scope.CONSENTED, Scope.SELF

PERMISSIONS: dict[str, dict[Role, Scope]] = {
    "finance.products.read": {Role.ADMIN: A, Role.CREDIT_OFFICE: A, Role.BANK: A, Role.SUBJECT: A},
    "finance.banks.manage": {Role.ADMIN: A, Role.CREDIT_OFFICE: A},
    "finance.bank": {Role.BANK: C},
    "finance.need": {Role.SUBJECT: S},
    "finance.approve": {Role.CREDIT_OFFICE: A},
    "finance.read": {Role.ADMIN: A, Role.CREDIT_OFFICE: A},
}
