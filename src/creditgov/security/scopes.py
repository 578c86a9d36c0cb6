"""Roles, permissions and data scopes: the one place that decides who sees what.

Every route asks `authorize(principal, permission)` and gets a `Grant` back, or a
`Forbidden`. The grant carries the data scope that the role has *for that
permission*, and the only ways to reach subjects are through it:
`grant.subject_clause()` for queries, `grant.require_subject()` for one subject and
`grant.visible_records()` for the body of a file. Keeping the table below as data
(not `if role == ...` scattered over routes) is what lets the matrix test prove
every role against every endpoint.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, false, select, true
from sqlalchemy.orm import Session

from creditgov.core import clock
from creditgov.core.errors import CreditGovError, NotFound
from creditgov.records.models import CreditRecord
from creditgov.security.accounts import AccessConsent
from creditgov.subjects.models import Region, Subject


class Unauthenticated(CreditGovError):
    """No valid session or token: HTTP 401."""

    http_status = 401


class Forbidden(CreditGovError):
    """Signed in, but the role lacks the permission: HTTP 403."""

    http_status = 403


class SignInIncomplete(Forbidden):
    """The password was right but sign-in has a step left (`step`: "code" — the second
    factor; "password" — a new password must be chosen; "enrol" — the role requires a
    second factor the account has not set up). Until it is done the session acts for
    nobody: HTTP 403, and the pages send the browser to the step."""

    def __init__(self, step: str) -> None:
        what = {"code": "enter the code from your authenticator app (POST /auth/second-factor)",
                "password": "choose a new password (POST /auth/password)",
                "enrol": "set up an authenticator app (POST /auth/totp/enrol, then /auth/totp/confirm)"}[step]
        super().__init__(f"sign-in is not finished: {what}")
        self.step = step


class Role(StrEnum):
    ADMIN = "admin"
    CREDIT_OFFICE = "credit_office"
    DEPARTMENT = "department_officer"
    GRID = "grid_worker"
    INSPECTOR = "inspector"
    BANK = "bank_officer"
    SUBJECT = "subject"
    # 特约监督员: a citizen appointed to watch the credit work. Reads what the public
    # reads (published data) and files observations into the complaint procedure.
    SUPERVISOR = "supervisor"
    PUBLIC = "public"


ROLE_LABELS: dict[Role, tuple[str, str]] = {
    Role.ADMIN: ("系统管理员", "System administrator"),
    Role.CREDIT_OFFICE: ("信用办", "Credit office"),
    Role.DEPARTMENT: ("部门工作人员", "Department officer"),
    Role.GRID: ("网格员", "Grid worker"),
    Role.INSPECTOR: ("检查人员", "Inspector"),
    Role.BANK: ("银行工作人员", "Bank officer"),
    Role.SUBJECT: ("信用主体", "Subject (firm or resident)"),
    Role.SUPERVISOR: ("特约监督员", "Special supervisor"),
    Role.PUBLIC: ("社会公众", "Public"),
}


class Scope(StrEnum):
    """How far a grant reaches into subjects."""

    ALL = "all"  # the whole county
    REGION = "region"  # the user's region subtree (Region.path prefix)
    DEPARTMENT = "department"  # subjects the user's department has records on
    CONSENTED = "consented"  # subjects that consented to the user's organisation
    SELF = "self"  # the user's own subject
    PUBLISHED = "published"  # firms only, and only published, public-class records


A, R, D, C, S, P = Scope.ALL, Scope.REGION, Scope.DEPARTMENT, Scope.CONSENTED, Scope.SELF, Scope.PUBLISHED
_ADM, _OFF, _DEP, _GRD, _INS, _BNK, _SUB, _PUB = (Role.ADMIN, Role.CREDIT_OFFICE, Role.DEPARTMENT, Role.GRID,
                                                  Role.INSPECTOR, Role.BANK, Role.SUBJECT, Role.PUBLIC)
_INTERNAL = {_ADM: A, _OFF: A, _DEP: A, _GRD: A, _INS: A}

# permission -> role -> scope. A role absent from a row lacks the permission.
PERMISSIONS: dict[str, dict[Role, Scope]] = {
    "dashboard.view": {_ADM: A, _OFF: A, _DEP: D, _GRD: R, _INS: R},
    "bigscreen.view": {_ADM: A, _OFF: A},
    "subjects.search": {_ADM: A, _OFF: A, _DEP: D, _GRD: R, _INS: R, _BNK: C, _SUB: S},
    "subjects.read": {_ADM: A, _OFF: A, _DEP: D, _GRD: R, _INS: R, _BNK: C, _SUB: S},
    "report.download": {_ADM: A, _OFF: A, _DEP: D, _GRD: R, _BNK: C, _SUB: S},
    # A department checks any subject before it grants or punishes (联合奖惩); a bank
    # only those that consented.
    "check.run": {_ADM: A, _OFF: A, _DEP: A, _INS: R, _BNK: C},
    "regions.read": dict(_INTERNAL),
    "catalog.read": {**_INTERNAL, _BNK: A},
    "ingest.read": {_ADM: A, _OFF: A, _DEP: D},
    "quarantine.read": {_ADM: A, _OFF: A, _DEP: D},
    "audit.read": {_ADM: A, _OFF: A},
    "users.manage": {_ADM: A},
    "consents.grant": {_ADM: A, _OFF: A, _SUB: S},
    "models.read": dict(_INTERNAL),
    "runs.read": dict(_INTERNAL),
    "lists.read": {_ADM: A, _OFF: A, _DEP: D, _GRD: R, _INS: R},
    "measures.read": {**_INTERNAL, _BNK: A},
    # Risk warnings (alerts domain): read and handle the alerts about subjects in scope;
    # inspectors read them. Every signed-in account reads its own inbox (scope: self).
    "alerts.read": {_ADM: A, _OFF: A, _DEP: D, _GRD: R, _INS: R},
    "alerts.handle": {_ADM: A, _OFF: A, _DEP: D, _GRD: R},
    "inbox.read": {_ADM: S, _OFF: S, _DEP: S, _GRD: S, _INS: S, _BNK: S, _SUB: S},
    # Graded supervision: draws are made by the office or the inspecting department
    # (its own policies); a result is recorded by the inspectors assigned to the task,
    # its own department or the credit office (`supervision.access.result_refusal`:
    # reaching a task in one's region is not enough), never by the administrator.
    "supervision.read": {_ADM: A, _OFF: A, _DEP: D, _GRD: R, _INS: R},
    "supervision.draw": {_ADM: A, _OFF: A, _DEP: D},
    "inspections.record": {_OFF: A, _DEP: D, _GRD: R, _INS: R},
    "patrols.assign": {_ADM: A, _OFF: A},
    # Objection (异议) and credit repair (信用修复): the subject files and applies for
    # itself (the office's window on its behalf); the department that supplied a
    # record decides its objections and repairs (its own cases only); the credit office
    # forwards repair applications and decides reviews. The own view is the subject's.
    "objections.read": {_ADM: A, _OFF: A, _DEP: D, _SUB: S},
    "objections.file": {_OFF: A, _SUB: S},
    "objections.decide": {_OFF: A, _DEP: D},
    "repairs.read": {_ADM: A, _OFF: A, _DEP: D, _SUB: S},
    "repairs.apply": {_OFF: A, _SUB: S},
    "repairs.decide": {_OFF: A, _DEP: D},
    # Repair conditions: the supplying department or the credit office confirm a record's
    # obligations fulfilled and a training; the subject signs its credit-repair
    # commitment (the office's window records one signed there). The services check
    # which condition the acting unit may record.
    "repairs.conditions": {_OFF: A, _DEP: D, _SUB: S},
    "own.view": {_SUB: S},
    # Credit commitments (信用承诺): a subject signs its own (the office's window records one
    # signed there); the verifying department records the outcome (the office for its own
    # templates). A department reads the commitments made to it (commitments/views.py).
    "commitments.read": {_ADM: A, _OFF: A, _DEP: D, _GRD: R, _INS: R, _SUB: S},
    "commitments.sign": {_OFF: A, _SUB: S},
    "commitments.verify": {_OFF: A, _DEP: D},
    # Regional analysis (区域信用分析): the dashboard's readers, in the dashboard's scopes.
    "analysis.read": {_ADM: A, _OFF: A, _DEP: D, _GRD: R, _INS: R},
    "exchange.read": {_ADM: A, _OFF: A},
    "public.query": {r: P for r in Role},
}


def register_permissions(rows: dict[str, dict[Role, Scope]]) -> None:
    """A domain's own permission rows, added at start-up by the composition root
    (`bootstrap.wire`). A name already taken with other grants is refused: two domains
    must not disagree about one permission."""
    for name, grants in rows.items():
        if PERMISSIONS.get(name, grants) != grants:
            raise ValueError(f"permission {name!r} is already defined with other grants")
        PERMISSIONS[name] = dict(grants)


@dataclass(frozen=True)
class Principal:
    """Who is asking: resolved once per request from a session cookie or a token."""

    role: Role
    user_id: int | None = None
    username: str = "anonymous"
    display_name: str = ""
    region_code: str | None = None
    region_path: str | None = None
    department_code: str | None = None
    organisation: str | None = None
    subject_id: int | None = None
    via: str = "anonymous"  # session / token / anonymous
    csrf_token: str | None = None
    # A sign-in step left for this session (see SignInIncomplete); None when complete.
    pending: str | None = None

    @property
    def actor(self) -> str:
        """The name written to the audit chain."""
        return f"user:{self.username}" if self.user_id is not None else f"{self.via}:{self.username}"

    @property
    def signed_in(self) -> bool:
        return self.user_id is not None

    @property
    def masks_people(self) -> bool:
        """The one masking policy of this viewer, applied on every page, answer and
        export: the public, banks and subjects see residents' names and ID numbers
        masked (a subject its own unmasked; a special supervisor, who reads what the
        public reads, too); the office, departments, grid workers and
        inspectors, whose work is about named people in their scope, see them whole.
        (An ID number is never shown whole: only its masked form is stored readable.)"""
        return self.role in (Role.PUBLIC, Role.BANK, Role.SUBJECT, Role.SUPERVISOR)

    def can(self, permission: str) -> bool:
        if self.pending and permission not in OPEN_WHILE_PENDING:
            return False
        return self.role in PERMISSIONS.get(permission, {})


PUBLIC = Principal(role=Role.PUBLIC)
# What a session with a sign-in step left may still do: what anyone may.
OPEN_WHILE_PENDING = frozenset({"public.query"})


# The data classes (the catalogue's `data_class`) every department reads in a file in its
# scope; a restricted or secret record only the department that supplied it.
DEPARTMENT_CLASSES = frozenset({"public", "shared"})


@dataclass(frozen=True)
class Grant:
    principal: Principal
    permission: str
    scope: Scope

    # ------------------------------------------------------------------ queries
    def subject_clause(self) -> ColumnElement[bool]:
        """A WHERE clause on `Subject` selecting exactly the subjects in scope."""
        p = self.principal
        if self.scope is Scope.ALL:
            return true()
        if self.scope is Scope.REGION:
            if not p.region_path:
                return false()
            cells = select(Region.id).where(Region.path.startswith(p.region_path))
            return Subject.region_id.in_(cells)
        if self.scope is Scope.DEPARTMENT:
            if not p.department_code:
                return false()
            subj = select(CreditRecord.subject_id).where(CreditRecord.department_code == p.department_code)
            return Subject.id.in_(subj)
        if self.scope is Scope.CONSENTED:
            if not p.organisation:
                return false()
            today = clock.today()
            ok = select(AccessConsent.subject_id).where(
                AccessConsent.organisation == p.organisation, AccessConsent.in_force_on(today))
            return Subject.id.in_(ok)
        if self.scope is Scope.SELF:
            return Subject.id == p.subject_id if p.subject_id is not None else false()
        # PUBLISHED: firms and organisations only; residents never appear by name.
        return Subject.resident_id_index.is_(None)

    def in_scope(self, session: Session, subject_id: int) -> bool:
        q = select(Subject.id).where(Subject.id == subject_id, self.subject_clause())
        return session.execute(q).first() is not None

    def require_subject(self, session: Session, subject_id: int) -> Subject:
        """The subject, or NotFound when it is outside the scope — the same answer as a
        missing one, so a scope does not leak which subjects exist."""
        if self.scope is Scope.ALL:  # no clause to add: the identity map may already hold it
            row = session.get(Subject, subject_id)
        else:
            row = session.execute(select(Subject).where(Subject.id == subject_id, self.subject_clause())).scalar()
        if row is None:
            raise NotFound(f"subject {subject_id} not found in your data scope")
        return row

    # ------------------------------------------------------------------ file body
    def visible_records(self, records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """The records of a file this grant may show. Published-only sees public-class
        records of a kind that is published at all (the catalogue's publication rules:
        no warnings, no 通报批评), active and inside their publication period. A
        department sees the classes shared between departments (`DEPARTMENT_CLASSES`)
        and, of the restricted and secret ones, only the records it supplied itself: a
        bank's loan shared under the subject's consent, a utility's bills or a police
        case are not every department's to read."""
        if self.scope is Scope.DEPARTMENT:
            own = self.principal.department_code
            return [r for r in records if r.get("data_class") in DEPARTMENT_CLASSES
                    or (own is not None and r.get("department") == own)]
        if self.scope is not Scope.PUBLISHED:
            return list(records)
        return [r for r in records if r.get("data_class") == "public" and r.get("published_item")
                and r.get("status") == "active" and r.get("in_publication_period") and r.get("is_current", True)]

    @property
    def masks_people(self) -> bool:
        """Whether names and IDs of residents are masked in what this grant shows."""
        return self.principal.masks_people or self.scope in (Scope.PUBLISHED, Scope.CONSENTED)

    @property
    def shows_readers(self) -> bool:
        """Who read a file is itself personal: office, administrators and the subject."""
        return self.scope in (Scope.ALL, Scope.SELF) and self.principal.role is not Role.DEPARTMENT


def authorize(principal: Principal, permission: str) -> Grant:
    """The grant for one permission, or Unauthenticated / Forbidden."""
    roles = PERMISSIONS.get(permission)
    if roles is None:
        raise KeyError(f"unknown permission {permission!r}")
    if principal.pending and permission not in OPEN_WHILE_PENDING:
        raise SignInIncomplete(principal.pending)
    scope = roles.get(principal.role)
    if scope is None:
        if not principal.signed_in:
            raise Unauthenticated("sign in first")
        raise Forbidden(f"role {principal.role.value} lacks permission {permission}",
                        code="security.permission.lacking", params={"role": principal.role.value})
    return Grant(principal, permission, scope)


def permissions_of(role: Role) -> dict[str, Scope]:
    return {perm: roles[role] for perm, roles in PERMISSIONS.items() if role in roles}


def default_purpose(principal: Principal) -> str:
    """The purpose written to the audit chain when a reader gives none."""
    return {Role.ADMIN: "administration", Role.CREDIT_OFFICE: "credit supervision",
            Role.DEPARTMENT: "department business", Role.GRID: "grid service",
            Role.INSPECTOR: "inspection", Role.BANK: "credit lending (consented)",
            Role.SUBJECT: "own file", Role.SUPERVISOR: "public supervision",
            Role.PUBLIC: "public query"}[principal.role]
