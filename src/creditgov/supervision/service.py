"""Graded supervision: its policies (bands by credit result, sampling ratios, the
inspector pool) and its inspectors. Loading them is the first state change of the
domain; everything else builds on what they say.

The rest of the domain: random draws, the tasks they create and periodic plans in
`draws.py` (the draw algorithm itself is `draw.py`); inspection tasks and their
results, which become credit records, in `tasks.py`; grid patrols in `patrols.py`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from creditgov.catalog import departments
from creditgov.catalog.models import CatalogItem, DataRequest
from creditgov.core import clock
from creditgov.core.config import PolicyFile, load_yaml_model
from creditgov.core.errors import ConfigError, InvalidInput, NotFound
from creditgov.security import service as audit
from creditgov.security.accounts import User
from creditgov.subjects.models import Region, Subject
from creditgov.supervision import draw as drawing
from creditgov.supervision.models import Inspector, SupervisionPolicy
from creditgov.supervision.schemas import InspectorsFile, PoliciesFile, PolicyDef

# ----------------------------------------------------------------------------- policies


POLICIES = PolicyFile(PoliciesFile, "creditgov.supervision", "data/policies.yaml")


def read_policies(path: Path | None = None) -> PoliciesFile:
    return POLICIES.load(path)


def load_policies(session: Session, *, path: Path | None = None, actor: str | None = None) -> dict[str, Any]:
    """Upsert policies. Departments and result items must exist; an inspecting
    department's own result items get an approved data request if none exists (the
    department records its own inspections — 《企业信息公示暂行条例》第六条), while a
    request someone rejected stays rejected and results then fail loudly."""
    doc = read_policies(path)
    src = str(path) if path else "policies.yaml (shipped)"
    items = {c for (c,) in session.execute(select(CatalogItem.code))}
    for n, p in enumerate(doc.policies):
        where = f"{src}: policies[{n}] ({p.name})"
        departments.require(session, p.department, where=where)
        for it in (p.results.passed, p.results.problems, p.results.penalty):
            if it is not None and it not in items:
                raise ConfigError(f"{where}: unknown catalogue item {it!r} in results")
    now = clock.now()
    today = clock.today()
    for p in doc.policies:
        # A policy without matters keeps the body (and hash) it had before policies could list them.
        body = p.model_dump_json(exclude={"matters"} if not p.matters else None)
        session.merge(SupervisionPolicy(name=p.name, title=p.title, basis=p.basis, model=p.model,
                                        department=p.department, version=doc.version,
                                        content_hash=hashlib.sha256(body.encode()).hexdigest(), definition=body,
                                        loaded_at=now))
        for it in (p.results.passed, p.results.problems, p.results.penalty):
            if it is None:
                continue
            exists = session.execute(select(DataRequest.id).where(
                DataRequest.item_code == it, DataRequest.department_code == p.department)).scalar()
            if exists is None:
                session.add(DataRequest(item_code=it, department_code=p.department, status="approved",
                                        requested_on=today, decided_on=today,
                                        note="本部门检查结果依法记录公示 (《企业信息公示暂行条例》第六条; 监管方案"
                                             f"“{p.title}”)"))
    session.flush()
    audit.append(session, action="supervision.policies.load", actor=actor,
                 detail={"version": doc.version, "policies": [p.name for p in doc.policies]})
    return {"version": doc.version, "policies": len(doc.policies)}


@lru_cache(maxsize=64)
def _policy_of(text: str) -> PolicyDef:
    return PolicyDef.model_validate_json(text)


def policy(session: Session, name: str) -> tuple[SupervisionPolicy, PolicyDef]:
    row = session.get(SupervisionPolicy, name)
    if row is None:
        raise NotFound(f"supervision policy {name!r} not found (load policies with `creditgov init`)",
                       code="supervision.policy.not_found", params={"name": name})
    return row, _policy_of(row.definition)


def policies(session: Session) -> list[PolicyDef]:
    q = select(SupervisionPolicy.definition).order_by(SupervisionPolicy.name)
    return [_policy_of(t) for (t,) in session.execute(q)]


# ----------------------------------------------------------------------------- inspectors


def load_inspectors(session: Session, *, path: Path | None = None, roster: InspectorsFile | None = None,
                    actor: str | None = None) -> dict[str, int]:
    """Upsert inspectors by code; anyone in a loaded pool but not in the file is
    deactivated (left, retired), never deleted: past draws name them. A person's
    `account` names the account that acts for them (`acting_codes`): one account acts
    for one person, and an account that exists already must be of the person's kind
    (an inspector's account, a grid worker's) — a grid worker is no market inspector."""
    if roster is None:
        if path is None:
            raise InvalidInput("give an inspectors file")
        roster = load_yaml_model(InspectorsFile, path)
    where = path or "inspectors"
    regions = {c for (c,) in session.execute(select(Region.code))}
    existing = {i.code: i for i in session.execute(select(Inspector)).scalars()}
    pools = {i.pool for i in roster.inspectors}
    listed = {i.code for i in roster.inspectors}
    taken = {row.account: code for code, row in existing.items() if row.account and code not in listed}
    roles = dict(session.execute(select(User.username, User.role).where(
        User.username.in_([i.account for i in roster.inspectors if i.account]))).tuples().all())
    for n, i in enumerate(roster.inspectors):
        if i.region is not None and i.region not in regions:
            raise ConfigError(f"{where}: inspectors[{n}] ({i.code}): unknown region {i.region!r}")
        if i.account and i.account in taken:
            raise ConfigError(f"{where}: inspectors[{n}] ({i.code}): account {i.account!r} already acts for "
                              f"{taken[i.account]}")
        if i.account and i.account in roles and roles[i.account] != i.kind:
            raise ConfigError(f"{where}: inspectors[{n}] ({i.code}): account {i.account!r} has the role "
                              f"{roles[i.account]}, not {i.kind}")
    # An account moving from one person to another: let go first (the column is unique).
    for i in roster.inspectors:
        row = existing.get(i.code)
        if row is not None and row.account != i.account:
            row.account = None
    session.flush()
    seen = set()
    for i in roster.inspectors:
        row = existing.get(i.code)
        if row is None:
            row = Inspector(code=i.code)
            session.add(row)
        row.name, row.kind, row.department, row.pool = i.name, i.kind, i.department, i.pool
        row.region_code, row.active, row.account = i.region, i.active, i.account
        seen.add(i.code)
    left = 0
    for code, row in existing.items():
        if row.pool in pools and code not in seen and row.active:
            row.active = False
            left += 1
    session.flush()
    audit.append(session, action="supervision.inspectors.load", actor=actor,
                 detail={"inspectors": len(roster.inspectors), "pools": sorted(pools), "deactivated": left})
    return {"inspectors": len(roster.inspectors), "deactivated": left}


_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
_GIVEN = ("建国", "丽华", "志强", "秀英", "海燕", "伟", "敏", "静", "磊", "洋", "勇", "艳", "杰", "娟", "涛", "明",
          "超", "霞", "平", "刚", "桂英", "文", "辉", "鑫")


DEMO_INSPECTOR_ACCOUNT = "inspector"


def _busiest_street(session: Session) -> str | None:
    """The street with the most subjects (ties: the first by code)."""
    streets = select(Region.code, Region.path).where(Region.level == "street").subquery()
    cell = aliased(Region)
    q = (select(streets.c.code).select_from(streets).join(cell, cell.path.startswith(streets.c.path))
         .join(Subject, Subject.region_id == cell.id).group_by(streets.c.code)
         .order_by(func.count(Subject.id).desc(), streets.c.code).limit(1))
    return session.execute(q).scalar()


def demo_roster(session: Session) -> InspectorsFile:
    """A plausible roster for a generated county: two market inspectors per street
    (each working in their street), tourism inspectors, and one grid worker per grid
    of the homestay town (pool `tourism`). Deterministic: derived from region codes.
    The demo's `inspector` account acts for the first inspector of its street."""
    streets = list(session.execute(select(Region.code, Region.name).where(Region.level == "street")
                                   .order_by(Region.code)).all())
    grids = list(session.execute(select(Region.code, Region.name, Region.path).where(Region.level == "grid")
                                 .order_by(Region.code)).all())
    people: list[dict[str, Any]] = []
    k = 0

    def name() -> str:
        nonlocal k
        k += 1
        return _SURNAMES[(k * 7) % len(_SURNAMES)] + _GIVEN[(k * 5) % len(_GIVEN)]

    # The demo's `inspector` account (`creditgov users demo`: the street with the most
    # subjects) acts for the first market inspector of that street.
    busiest = _busiest_street(session)
    for code, _ in streets:
        for j in (1, 2):
            people.append({"code": f"SJ-{code[-3:]}-{j}", "name": name(), "kind": "inspector",
                           "department": "market", "pool": "market", "region": code,
                           **({"account": DEMO_INSPECTOR_ACCOUNT} if code == busiest and j == 1 else {})})
    for j, (code, _) in enumerate(streets[:6], start=1):
        people.append({"code": f"WL-{j:02d}", "name": name(), "kind": "inspector", "department": "tourism",
                       "pool": "tourism", "region": code})
    homestay_street = streets[2][0] if len(streets) > 2 else None
    for code, _, path in grids:
        if homestay_street and f"/{homestay_street}/" in path:
            people.append({"code": f"WG-{code[-7:]}", "name": name(), "kind": "grid_worker", "department": "grid",
                           "pool": "tourism", "region": code})
    return InspectorsFile.model_validate({"inspectors": people})


# What each kind of person in a pool is called, in Chinese and English.
INSPECTOR_KINDS = {"inspector": ("执法检查人员", "law-enforcement inspector"), "grid_worker": ("网格员", "grid worker")}


def inspector_pools(session: Session, *, pool: str | None = None,
                    include_inactive: bool = False) -> list[dict[str, Any]]:
    """The pools with their people and where each works: the region a draw keeps
    them away from (`exclusions.own_region`), and the policies that draw from each."""
    q = (select(Inspector, Region.name).outerjoin(Region, Region.code == Inspector.region_code)
         .order_by(Inspector.pool, Inspector.code))
    if pool:
        q = q.where(Inspector.pool == pool)
    if not include_inactive:
        q = q.where(Inspector.active.is_(True))
    by_pool: dict[str, dict[str, Any]] = {}
    for p in policies(session):
        if pool is None or p.inspector_pool == pool:
            entry = by_pool.setdefault(p.inspector_pool, {"pool": p.inspector_pool, "policies": [], "inspectors": []})
            entry["policies"].append({"name": p.name, "kinds": list(p.inspector_kinds),
                                      "own_region_excluded": p.exclusions.own_region})
    for i, region_name in session.execute(q):
        entry = by_pool.setdefault(i.pool, {"pool": i.pool, "policies": [], "inspectors": []})
        zh, en = INSPECTOR_KINDS.get(i.kind, (i.kind, i.kind))
        entry["inspectors"].append({"code": i.code, "name": i.name, "kind": i.kind, "kind_label": f"{zh} {en}",
                                    "department": i.department, "account": i.account,
                                    "region": i.region_code, "region_name": region_name, "active": i.active})
    return [by_pool[k] for k in sorted(by_pool)]


def acting_codes(session: Session, *, username: str, role: str) -> list[str]:
    """The roster codes an account acts for: the people on duty whose row names it as
    their `account`, and one whose row names no account but whose code is the account's
    user name (the rule before rows named accounts) — each only where the account's role
    is the person's kind (an inspector's account for an inspector, a grid worker's for a
    grid worker). Accounts of other roles act for nobody on the roster."""
    if role not in INSPECTOR_KINDS:
        return []
    q = select(Inspector.code).where(
        Inspector.active.is_(True), Inspector.kind == role,
        or_(Inspector.account == username, and_(Inspector.account.is_(None), Inspector.code == username)))
    return sorted(session.execute(q).scalars())


def people_named(session: Session, codes: Iterable[str]) -> dict[str, str]:
    """Roster code -> the person's name, for the codes that are on the roster."""
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    return dict(session.execute(select(Inspector.code, Inspector.name).where(Inspector.code.in_(wanted))).tuples().all())


def pool_members(session: Session, p: PolicyDef) -> list[drawing.Member]:
    q = select(Inspector.code, Inspector.region_code).where(
        Inspector.pool == p.inspector_pool, Inspector.active.is_(True), Inspector.kind.in_(p.inspector_kinds))
    return [drawing.Member(code, region) for code, region in session.execute(q.order_by(Inspector.code))]
