"""The points domain's permission rows (added to `security.scopes.PERMISSIONS` by the
composition root). Balances and history are personal: a subject sees its own, the
office all, a grid worker those of its grid. Offers are read by every signed-in
role but banks; shops and offers are managed by the office. A manual award is
proposed by a grid worker or the office and approved by the office (a second person:
the service refuses the proposer). A shop's own accounts (role subject, the shop's
subject) confirm its codes; the office's counter confirms any. A resident chooses
whether to appear on the public boards on its own page (`points.own`)."""

from creditgov.security.scopes import Role, Scope

A, R, S = Scope.ALL, Scope.REGION, Scope.SELF

PERMISSIONS: dict[str, dict[Role, Scope]] = {
    # The subject's own page (/me/points) and its menu entry.
    "points.own": {Role.SUBJECT: S},
    "points.read": {Role.ADMIN: A, Role.CREDIT_OFFICE: A, Role.GRID: R, Role.SUBJECT: S},
    "points.redeem": {Role.CREDIT_OFFICE: A, Role.GRID: R, Role.SUBJECT: S},
    "points.award": {Role.CREDIT_OFFICE: A, Role.GRID: R},
    "points.approve": {Role.CREDIT_OFFICE: A},
    "points.confirm": {Role.ADMIN: A, Role.CREDIT_OFFICE: A, Role.SUBJECT: S},
    "offers.read": {Role.ADMIN: A, Role.CREDIT_OFFICE: A, Role.DEPARTMENT: A, Role.GRID: A, Role.INSPECTOR: A,
                    Role.SUBJECT: A},
    "shops.manage": {Role.ADMIN: A, Role.CREDIT_OFFICE: A},
    # The credit-merchant selection: the office opens and decides a round and reads the
    # objections' texts; every signed-in role but banks may nominate or object in the
    # public period (the round itself is public, `/public/selections/…`).
    "awards.manage": {Role.CREDIT_OFFICE: A},
    "awards.comment": {Role.ADMIN: A, Role.CREDIT_OFFICE: A, Role.DEPARTMENT: A, Role.GRID: A, Role.INSPECTOR: A,
                       Role.SUBJECT: A},
}
