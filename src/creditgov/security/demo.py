"""Demo accounts, one per role, chosen from whatever county is loaded.

`make demo` ends by printing these, so a visitor can sign in as each role and see
the data scopes at work: the grid worker gets the most populated grid, the
department officer the department with most records, the bank a handful of firms
that consented, the subject user a firm with a score; once the points supermarket
and 信易贷 are seeded, a merchant's own account for its shop (confirming redemption
codes) and a borrower's, which sees its needs and loans. The roles that must sign in
with a second factor (the administrator, the credit office) are enrolled at the
console and their TOTP keys printed with the passwords, so the visitor adds them to
an authenticator app (or computes a code with pyotp) instead of being stopped at the
enrolment page; a rerun prints the same keys.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from creditgov.finance.models import Loan
from creditgov.points.models import Shop
from creditgov.records.models import CreditRecord
from creditgov.scoring.models import Score
from creditgov.security import mfa, passwords
from creditgov.security import users as user_service
from creditgov.security.accounts import User
from creditgov.security.crypto import KeyRing
from creditgov.security.scopes import ROLE_LABELS, Role
from creditgov.subjects.models import Region, Subject

DEMO_BANK = "demo-bank"


def _busiest_region(session: Session, level_depth: int) -> str | None:
    cells = select(Region.code, Region.path).where(Region.depth == level_depth).subquery()
    q = (select(cells.c.code, func.count(Subject.id)).select_from(cells)
         .join(Region, Region.path.startswith(cells.c.path)).join(Subject, Subject.region_id == Region.id)
         .group_by(cells.c.code).order_by(func.count(Subject.id).desc(), cells.c.code).limit(1))
    row = session.execute(q).first()
    return row[0] if row else None


def _firms(session: Session, n: int) -> list[int]:
    """Firms with records, scored ones first, for the bank's consents and the subject user."""
    scored = select(Score.subject_id).distinct()
    with_records = select(CreditRecord.subject_id).distinct()
    q = (select(Subject.id).where(Subject.resident_id_index.is_(None), Subject.id.in_(with_records))
         .order_by(Subject.id.in_(scored).desc(), Subject.id).limit(n))
    ids = list(session.execute(q).scalars())
    if not ids:
        ids = list(session.execute(select(Subject.id).where(Subject.resident_id_index.is_(None))
                                   .order_by(Subject.id).limit(n)).scalars())
    return ids


def ensure_demo_accounts(session: Session, keyring: KeyRing, *, password_prefix: str = "demo-",
                         actor: str | None = None) -> list[dict[str, Any]]:
    """Create (or reset the passwords of) one account per role; returns their logins,
    with the TOTP key of each account whose role requires a second factor."""
    grid = _busiest_region(session, 2) or _busiest_region(session, 1) or _busiest_region(session, 0)
    street = _busiest_region(session, 1) or grid
    dept = session.execute(select(CreditRecord.department_code, func.count()).group_by(CreditRecord.department_code)
                           .order_by(func.count().desc()).limit(1)).scalar()
    firms = _firms(session, 4)
    plan: list[tuple[str, Role, dict[str, Any]]] = [
        ("admin", Role.ADMIN, {}),
        ("office", Role.CREDIT_OFFICE, {}),
        ("dept", Role.DEPARTMENT, {"department_code": dept or "market"}),
        ("grid", Role.GRID, {"region_code": grid}),
        ("inspector", Role.INSPECTOR, {"region_code": street}),
        ("bank", Role.BANK, {"organisation": DEMO_BANK}),
    ]
    if firms:
        plan.append(("firm", Role.SUBJECT, {"subject_id": firms[0]}))
    shop = session.execute(select(Shop.subject_id).where(Shop.subject_id.is_not(None))
                           .order_by(Shop.code).limit(1)).scalar()
    if shop is not None:
        plan.append(("shop", Role.SUBJECT, {"subject_id": shop}))
    borrower = session.execute(select(Loan.subject_id).order_by(Loan.id).limit(1)).scalar()
    if borrower is not None:
        plan.append(("borrower", Role.SUBJECT, {"subject_id": borrower}))
    out = []
    for username, role, scope in plan:
        password = f"{password_prefix}{username}-2026"
        user = session.execute(select(User).where(User.username == username)).scalar()
        if user is None:
            user = user_service.create_user(session, username=username, password=password, role=role.value,
                                            display_name=f"{ROLE_LABELS[role][0]}（演示）", actor=actor, **scope)
        else:
            passwords.reset(session, user=user, password=password, temporary=False, actor=actor)
            user.active = True
        secret = None
        if mfa.required(user):
            if mfa.enrolled(user):
                assert user.totp_secret is not None  # enrolled
                secret = keyring.decrypt(user.totp_secret)
            else:
                secret = mfa.enrol_now(session, keyring, user, actor=actor)[0].secret
        out.append({"role": role.value, "role_zh": ROLE_LABELS[role][0], "username": username,
                    "password": password, "totp_secret": secret,
                    "scope": ", ".join(f"{k}={v}" for k, v in scope.items()) or "all"})
    have = {c.subject_id for c in user_service.consents(session, organisation=DEMO_BANK) if c.revoked_on is None}
    for sid in firms[:3]:
        if sid not in have:
            user_service.grant_consent(session, subject_id=sid, organisation=DEMO_BANK,
                                       purpose="信易贷融资申请（演示）", actor=actor)
    return out
