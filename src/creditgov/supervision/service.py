"""Graded supervision: policies, inspectors, random draws, inspection tasks and their
results, patrol lists and periodic plans. The one place that changes supervision state.

The closed loop: an inspection's result becomes a credit record through the same path
as ingestion — a registered source spec (`inspection_<department>`), a batch, the
`BatchWriter` with its checks (catalogue, approved data request, natural key,
correction as a new version), the raw row kept for `ingest trace` — so a penalty found
on inspection is in the credit file, the next evaluation and the warning rules like
any department's record.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, cast

import yaml
from sqlalchemy import ColumnElement, String, Table, func, or_, select, true
from sqlalchemy import cast as sql_cast
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from creditgov.catalog.models import CatalogItem, DataRequest, Department
from creditgov.core import clock, db
from creditgov.core.config import load_yaml_model, parse_yaml_model
from creditgov.core.db import bulk_insert
from creditgov.core.errors import ConfigError, InvalidInput, NotFound
from creditgov.ingest import service as ingest_service
from creditgov.ingest.models import Batch
from creditgov.ingest.schemas import SourceSpec
from creditgov.records.models import CreditRecord
from creditgov.scoring.models import EvaluationRun, Score
from creditgov.security import service as audit
from creditgov.security.crypto import KeyRing
from creditgov.subjects import service as subject_service
from creditgov.subjects.models import Region, Subject
from creditgov.supervision import draw as drawing
from creditgov.supervision.models import (
    Draw,
    DrawItem,
    InspectionTask,
    Inspector,
    SupervisionPolicy,
)
from creditgov.supervision.schemas import InspectorsFile, PoliciesFile, PolicyDef

SCOPE_KEYS = ("region", "industry", "kind")

# ----------------------------------------------------------------------------- policies


@lru_cache(maxsize=4)
def _parse(text: str, source: str) -> PoliciesFile:
    return parse_yaml_model(PoliciesFile, text, source)


def read_policies(path: Path | None = None) -> PoliciesFile:
    if path is None:
        text = resources.files("creditgov.supervision").joinpath("data/policies.yaml").read_text("utf-8")
        return _parse(text, "policies.yaml (shipped)")
    return load_yaml_model(PoliciesFile, path)


def load_policies(session: Session, *, path: Path | None = None, actor: str | None = None) -> dict[str, Any]:
    """Upsert policies. Departments and result items must exist; an inspecting
    department's own result items get an approved data request if none exists (the
    department records its own inspections — 《企业信息公示暂行条例》第六条), while a
    request someone rejected stays rejected and results then fail loudly."""
    doc = read_policies(path)
    src = str(path) if path else "policies.yaml (shipped)"
    deps = {c for (c,) in session.execute(select(Department.code))}
    items = {c for (c,) in session.execute(select(CatalogItem.code))}
    for n, p in enumerate(doc.policies):
        where = f"{src}: policies[{n}] ({p.name})"
        if p.department not in deps:
            raise ConfigError(f"{where}: unknown department {p.department!r}")
        for it in (p.results.passed, p.results.problems, p.results.penalty):
            if it is not None and it not in items:
                raise ConfigError(f"{where}: unknown catalogue item {it!r} in results")
    now = clock.now()
    today = clock.today()
    for p in doc.policies:
        body = p.model_dump_json()
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
                                        note="本部门检查结果依法记录公示 (《企业信息公示暂行条例》第六条; supervision policy "
                                             f"{p.name})"))
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
        raise NotFound(f"supervision policy {name!r} not found (load policies with `creditgov init`)")
    return row, _policy_of(row.definition)


def policies(session: Session) -> list[PolicyDef]:
    q = select(SupervisionPolicy.definition).order_by(SupervisionPolicy.name)
    return [_policy_of(t) for (t,) in session.execute(q)]


# ----------------------------------------------------------------------------- inspectors


def load_inspectors(session: Session, *, path: Path | None = None, roster: InspectorsFile | None = None,
                    actor: str | None = None) -> dict[str, int]:
    """Upsert inspectors by code; anyone in a loaded pool but not in the file is
    deactivated (left, retired), never deleted: past draws name them."""
    if roster is None:
        if path is None:
            raise InvalidInput("give an inspectors file")
        roster = load_yaml_model(InspectorsFile, path)
    regions = {c for (c,) in session.execute(select(Region.code))}
    existing = {i.code: i for i in session.execute(select(Inspector)).scalars()}
    pools = {i.pool for i in roster.inspectors}
    seen = set()
    for n, i in enumerate(roster.inspectors):
        if i.region is not None and i.region not in regions:
            raise ConfigError(f"{path or 'inspectors'}: inspectors[{n}] ({i.code}): unknown region {i.region!r}")
        row = existing.get(i.code)
        if row is None:
            row = Inspector(code=i.code)
            session.add(row)
        row.name, row.kind, row.department, row.pool = i.name, i.kind, i.department, i.pool
        row.region_code, row.active = i.region, i.active
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


def demo_roster(session: Session) -> InspectorsFile:
    """A plausible roster for a generated county: two market inspectors per street
    (each working in their street), tourism inspectors, and one grid worker per grid
    of the homestay town (pool `tourism`). Deterministic: derived from region codes."""
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

    for code, _ in streets:
        for j in (1, 2):
            people.append({"code": f"SJ-{code[-3:]}-{j}", "name": name(), "kind": "inspector",
                           "department": "market", "pool": "market", "region": code})
    for j, (code, _) in enumerate(streets[:6], start=1):
        people.append({"code": f"WL-{j:02d}", "name": name(), "kind": "inspector", "department": "tourism",
                       "pool": "tourism", "region": code})
    homestay_street = streets[2][0] if len(streets) > 2 else None
    for code, _, path in grids:
        if homestay_street and f"/{homestay_street}/" in path:
            people.append({"code": f"WG-{code[-7:]}", "name": name(), "kind": "grid_worker", "department": "grid",
                           "pool": "tourism", "region": code})
    return InspectorsFile.model_validate({"inspectors": people})


def pool_members(session: Session, p: PolicyDef) -> list[drawing.Member]:
    q = select(Inspector.code, Inspector.region_code).where(
        Inspector.pool == p.inspector_pool, Inspector.active.is_(True), Inspector.kind.in_(p.inspector_kinds))
    return [drawing.Member(code, region) for code, region in session.execute(q.order_by(Inspector.code))]


# ----------------------------------------------------------------------------- candidates


def _latest_run(session: Session, model: str, as_of: dt.date) -> int | None:
    q = (select(EvaluationRun.id).where(EvaluationRun.model_name == model, EvaluationRun.published.is_(True),
                                        EvaluationRun.status == "done", EvaluationRun.as_of <= as_of)
         .order_by(EvaluationRun.as_of.desc(), EvaluationRun.id.desc()).limit(1))
    return session.execute(q).scalar()


def normalise_scope(scope: dict[str, Any] | None) -> dict[str, Any]:
    """{"region": code, "industry": [..], "kind": [..]}, lists sorted (the scope is published)."""
    out: dict[str, Any] = {}
    for k, v in (scope or {}).items():
        if k not in SCOPE_KEYS:
            raise InvalidInput(f"unknown scope {k!r} (use {', '.join(SCOPE_KEYS)})")
        if k == "region":
            out[k] = str(v)
        else:
            vals = [v] if isinstance(v, str) else list(v)
            out[k] = sorted({str(x) for part in vals for x in str(part).split(",") if x})
    return out


def subject_key(uscc: str | None, rid_index: str | None, sid: int) -> str:
    """A subject's key in a published draw: stable across databases, never a raw ID number."""
    return uscc or (f"rid:{rid_index}" if rid_index else f"id:{sid}")


@dataclass
class Candidates:
    items: list[drawing.Candidate]
    ids: dict[str, int]
    runs: dict[str, int]
    excluded: dict[str, int] = field(default_factory=dict)


def candidates(session: Session, p: PolicyDef, scope: dict[str, Any], as_of: dt.date) -> Candidates:
    kinds = set(p.subject_kinds) & set(scope.get("kind", p.subject_kinds))
    q = (select(Subject.id, Subject.uscc, Subject.resident_id_index, Region.path)
         .outerjoin(Region, Region.id == Subject.region_id)
         .where(Subject.kind.in_(sorted(kinds)), Subject.status == "confirmed"))
    if "region" in scope:
        root = session.execute(select(Region.path).where(Region.code == scope["region"])).scalar()
        if root is None:
            raise NotFound(f"no region {scope['region']!r}")
        q = q.where(Region.path.startswith(root))
    if "industry" in scope:
        q = q.where(Subject.industry.in_(scope["industry"]))
    rows = session.execute(q).all()
    runs: dict[str, int] = {}
    results: dict[int, tuple[Decimal, str, str]] = {}
    if p.model:
        rid = _latest_run(session, p.model, as_of)
        if rid is not None:
            runs[p.model] = rid
            results = {sid: (Decimal(sc), g, c) for sid, sc, g, c in session.execute(
                select(Score.subject_id, Score.score, Score.grade, Score.colour).where(Score.run_id == rid))}
    elif p.basis == "colour":
        from creditgov.alerts.models import ColourCode

        results = {sid: (Decimal(sc or 0), g or "", c) for sid, c, g, sc in session.execute(
            select(ColourCode.subject_id, ColourCode.colour, ColourCode.grade, ColourCode.score))}
    since = dt.datetime.combine(as_of - dt.timedelta(days=365), dt.time())
    recent: dict[int, int] = {sid: int(n) for sid, n in session.execute(
        select(InspectionTask.subject_id, func.count(InspectionTask.id)).where(
            InspectionTask.status != "cancelled", InspectionTask.created_at >= since)
        .group_by(InspectionTask.subject_id))}
    last_team: dict[int, tuple[str, ...]] = {}
    if p.exclusions.previous_inspectors:
        latest = select(InspectionTask.subject_id, func.max(InspectionTask.id).label("tid")).where(
            InspectionTask.status != "cancelled").group_by(InspectionTask.subject_id).subquery()
        for sid, team in session.execute(select(InspectionTask.subject_id, InspectionTask.assignees).join(
                latest, latest.c.tid == InspectionTask.id)):
            last_team[sid] = tuple(sorted(team or []))
    out = Candidates([], {}, runs, {"no_band": 0, "frequency_cap": 0})
    for sid, uscc, idx, path in rows:
        res = results.get(sid)
        band = p.band_of(res[1], res[2], res[0]) if res else p.band_of(None, None, None)
        if band is None:
            out.excluded["no_band"] += 1
            continue
        cap = p.band(band).max_per_year
        if cap is not None and recent.get(sid, 0) >= cap:
            out.excluded["frequency_cap"] += 1
            continue
        key = subject_key(uscc, idx, sid)
        chain = tuple(c for c in (path or "").strip("/").split("/") if c)
        out.items.append(drawing.Candidate(key, band, chain, last_team.get(sid, ())))
        out.ids[key] = sid
    return out


# ----------------------------------------------------------------------------- the draw


def _params(p: PolicyDef) -> drawing.Params:
    return drawing.Params(ratios={b.label: b.ratio for b in p.bands}, per_task=p.inspectors_per_task,
                          max_load=p.max_tasks_per_inspector, own_region=p.exclusions.own_region,
                          previous_inspectors=p.exclusions.previous_inspectors)


def new_seed() -> str:
    """A fresh seed for a draw nobody should be able to predict; published with it."""
    return str(secrets.randbelow(10**12))


def draw(session: Session, *, policy_name: str, scope: dict[str, Any] | None = None, seed: str | int | None = None,
         as_of: dt.date | None = None, create_tasks: bool = True, dry_run: bool = False,
         plan_key: str | None = None, actor: str | None = None) -> dict[str, Any]:
    """Draw subjects and inspectors under a policy; record the draw with its inputs
    (unless `dry_run`) and create the inspection tasks."""
    actor = actor or audit.default_actor()
    row, p = policy(session, policy_name)
    as_of = as_of or clock.today()
    scope_n = normalise_scope(scope)
    seed_s = str(seed) if seed is not None else new_seed()
    if not seed_s.isdigit() or len(seed_s) > 30:
        raise InvalidInput("a seed is a non-negative whole number (at most 30 digits)")
    c = candidates(session, p, scope_n, as_of)
    members = pool_members(session, p)
    params = _params(p)
    picks = drawing.run(seed_s, c.items, members, params)
    inputs = drawing.inputs_doc(policy=p.name, policy_hash=row.content_hash, seed=seed_s, as_of=as_of.isoformat(),
                                scope=scope_n, runs=c.runs, candidates=c.items, pool=members, p=params,
                                excluded=c.excluded)
    result = drawing.result_doc(picks)
    out: dict[str, Any] = {
        "draw_id": None, "policy": p.name, "policy_version": row.version, "policy_hash": row.content_hash,
        "seed": seed_s, "as_of": as_of.isoformat(), "scope": scope_n, "runs": c.runs,
        "inputs_hash": drawing.digest(inputs), "result_hash": drawing.digest(result),
        "counts": _counts(p, c, picks, len(members)), "items": []}
    names = _names(session, [c.ids[x.key] for x in picks])
    out["items"] = [{"subject_id": c.ids[x.key], "key": x.key, "name": names.get(c.ids[x.key], ""), "band": x.band,
                     "inspectors": list(x.inspectors)} for x in picks]
    if dry_run:
        return out
    d = Draw(policy_name=p.name, policy_version=row.version, policy_hash=row.content_hash, seed=seed_s,
             scope=scope_n, as_of=as_of, runs=c.runs, inputs=drawing.canonical(inputs),
             inputs_hash=out["inputs_hash"], result_hash=out["result_hash"], counts=out["counts"], plan_key=plan_key,
             status="drawn", created_at=clock.now(), actor=actor)
    session.add(d)
    session.flush()
    bulk_insert(session, cast(Table, DrawItem.__table__), ["draw_id", "subject_id", "subject_key", "band", "rank", "inspectors"],
                [(d.id, c.ids[x.key], x.key, x.band, x.rank, json.dumps(list(x.inspectors))) for x in picks])
    out["draw_id"] = d.id
    audit.append(session, action="supervision.draw", actor=actor,
                 detail={"draw": d.id, "policy": p.name, "seed": seed_s, "scope": scope_n,
                         "inputs_hash": d.inputs_hash, "result_hash": d.result_hash, "drawn": len(picks)})
    if create_tasks:
        out["tasks"] = len(create_tasks_for(session, draw_id=d.id, actor=actor))
    return out


def _counts(p: PolicyDef, c: Candidates, picks: Sequence[drawing.Pick], pool: int) -> dict[str, Any]:
    per: dict[str, dict[str, Any]] = {}
    for b in p.bands:
        n = sum(1 for x in c.items if x.band == b.label)
        per[b.label] = {"candidates": n, "ratio": str(b.ratio), "drawn": sum(1 for x in picks if x.band == b.label)}
    short = sum(1 for x in picks if len(x.inspectors) < p.inspectors_per_task)
    return {"bands": per, "candidates": len(c.items), "drawn": len(picks), "excluded": c.excluded, "pool": pool,
            "understaffed": short}


def _names(session: Session, ids: Sequence[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    for k in range(0, len(ids), 900):
        for s in session.execute(select(Subject).where(Subject.id.in_(list(ids[k:k + 900])))).scalars():
            out[s.id] = subject_service.display_name(s, masked=True)
    return out


def get_draw(session: Session, draw_id: int) -> Draw:
    d = session.get(Draw, draw_id)
    if d is None:
        raise NotFound(f"draw {draw_id} not found")
    return d


def verify(session: Session, *, draw_id: int) -> dict[str, Any]:
    """Re-run a recorded draw from its published inputs and compare the results."""
    d = get_draw(session, draw_id)
    inputs = json.loads(d.inputs)
    picks, result_hash = drawing.replay(inputs)
    stored = [(i.subject_key, i.band, list(i.inspectors)) for i in session.execute(
        select(DrawItem).where(DrawItem.draw_id == d.id).order_by(DrawItem.rank, DrawItem.subject_key)).scalars()]
    replayed = [(x.key, x.band, list(x.inspectors)) for x in picks]
    return {"draw_id": d.id, "inputs_hash_ok": drawing.digest(inputs) == d.inputs_hash,
            "result_hash_ok": result_hash == d.result_hash, "items_match": stored == replayed,
            "result_hash": result_hash}


def draw_dict(session: Session, d: Draw, *, with_items: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {"draw_id": d.id, "policy": d.policy_name, "policy_version": d.policy_version,
                           "policy_hash": d.policy_hash, "seed": d.seed, "as_of": d.as_of.isoformat(),
                           "scope": d.scope, "runs": d.runs, "inputs_hash": d.inputs_hash,
                           "result_hash": d.result_hash, "counts": d.counts, "status": d.status,
                           "plan_key": d.plan_key, "created_at": d.created_at.isoformat(timespec="seconds"),
                           "actor": d.actor}
    if with_items:
        items = list(session.execute(select(DrawItem).where(DrawItem.draw_id == d.id)
                                     .order_by(DrawItem.rank, DrawItem.subject_key)).scalars())
        names = _names(session, [i.subject_id for i in items])
        out["items"] = [{"subject_id": i.subject_id, "key": i.subject_key, "name": names.get(i.subject_id, ""),
                         "band": i.band, "inspectors": list(i.inspectors)} for i in items]
    return out


def draws(session: Session, *, policy_name: str | None = None, limit: int = 50) -> list[Draw]:
    q = select(Draw).order_by(Draw.id.desc()).limit(limit)
    if policy_name:
        q = q.where(Draw.policy_name == policy_name)
    return list(session.execute(q).scalars())


# ----------------------------------------------------------------------------- tasks


def create_tasks_for(session: Session, *, draw_id: int, actor: str | None = None) -> list[InspectionTask]:
    """One task per drawn subject, assigned to its inspectors (once per draw)."""
    actor = actor or audit.default_actor()
    d = get_draw(session, draw_id)
    existing = list(session.execute(select(InspectionTask).where(InspectionTask.draw_id == d.id)).scalars())
    if existing:
        return existing
    _, p = policy(session, d.policy_name)
    due = d.as_of + dt.timedelta(days=p.due_days)
    now = clock.now()
    out = []
    for i in session.execute(select(DrawItem).where(DrawItem.draw_id == d.id).order_by(DrawItem.id)).scalars():
        t = InspectionTask(kind="random", draw_id=d.id, policy_name=d.policy_name, department=p.department,
                           subject_id=i.subject_id, band=i.band, assignees=list(i.inspectors), due_on=due,
                           status="assigned", created_at=now, updated_at=now, actor=actor)
        session.add(t)
        out.append(t)
    d.status = "tasked"
    session.flush()
    return out


def get_task(session: Session, task_id: int, *, lock: bool = False) -> InspectionTask:
    t = session.get(InspectionTask, task_id, with_for_update=lock)
    if t is None:
        raise NotFound(f"inspection task {task_id} not found")
    return t


def task_clause(subject_scope: ColumnElement[bool] | None, *, assignee: str | None = None,
                department: str | None = None) -> ColumnElement[bool]:
    """The tasks a reader reaches: those about subjects in `subject_scope` (a condition on
    `Subject`; None: every task), those of `department` (the inspecting department sees
    its own inspections) and those assigned to `assignee` (an inspector's code — drawn
    inspectors never work in the subject's own region, so their tasks lie outside it)."""
    if subject_scope is None:
        return true()
    parts: list[ColumnElement[bool]] = [InspectionTask.subject_id.in_(select(Subject.id).where(subject_scope))]
    if department:
        parts.append(InspectionTask.department == department)
    if assignee:
        parts.append(sql_cast(InspectionTask.assignees, String).contains(json.dumps(assignee), autoescape=True))
    return or_(*parts)


def tasks(session: Session, *, status: str | None = None, inspector: str | None = None,
          draw_id: int | None = None, overdue: bool = False, limit: int = 200,
          where: ColumnElement[bool] | None = None, subject_id: int | None = None) -> list[InspectionTask]:
    q = select(InspectionTask).order_by(InspectionTask.due_on, InspectionTask.id)
    if where is not None:
        q = q.where(where)
    if subject_id is not None:
        q = q.where(InspectionTask.subject_id == subject_id)
    if status:
        q = q.where(InspectionTask.status == status)
    if draw_id is not None:
        q = q.where(InspectionTask.draw_id == draw_id)
    if overdue:
        q = q.where(InspectionTask.status == "assigned", InspectionTask.due_on < clock.today())
    rows = list(session.execute(q).scalars())
    if inspector:
        rows = [t for t in rows if inspector in (t.assignees or [])]
    return rows[:limit]


def task_dict(t: InspectionTask) -> dict[str, Any]:
    return {"id": t.id, "kind": t.kind, "draw_id": t.draw_id, "policy": t.policy_name, "department": t.department,
            "subject_id": t.subject_id, "band": t.band, "assignees": list(t.assignees or []),
            "due_on": t.due_on.isoformat(), "status": t.status, "outcome": t.outcome, "finding": t.finding,
            "penalty_amount": str(t.penalty_amount) if t.penalty_amount is not None else None,
            "decision_no": t.decision_no, "score": str(t.score) if t.score is not None else None,
            "inspected_on": t.inspected_on.isoformat() if t.inspected_on else None, "record_id": t.record_id,
            "batch_id": t.batch_id}


def task_view(session: Session, t: InspectionTask) -> dict[str, Any]:
    """A task for the API and the pages: `task_dict` with the subject's display name, the
    policy's title and the credit record its result became."""
    out = task_dict(t)
    out["subject_name"] = _names(session, [t.subject_id]).get(t.subject_id, "")
    row = session.get(SupervisionPolicy, t.policy_name) if t.policy_name else None
    out["policy_title"] = row.title if row else None
    out["note"] = t.note
    out["created_at"] = t.created_at.isoformat(timespec="seconds")
    out["completed_by"] = t.completed_by
    out["record"] = None
    if t.record_id is not None:
        rec = session.get(CreditRecord, t.record_id)
        if rec is not None:
            out["record"] = {"id": rec.id, "item": rec.item_code, "document_no": rec.document_no,
                             "version": rec.version, "status": rec.status}
    return out


def task_views(session: Session, rows: Sequence[InspectionTask]) -> list[dict[str, Any]]:
    names = _names(session, sorted({t.subject_id for t in rows}))
    return [{**task_dict(t), "subject_name": names.get(t.subject_id, "")} for t in rows]


# ----------------------------------------------------------------------------- results → records

RESULT_COLUMNS = {"uscc": "统一社会信用代码", "resident_id": "身份证号码", "name": "名称", "item": "结果事项",
                  "occurred_on": "检查日期", "decided_on": "决定日期", "value": "金额或评分", "text": "检查结果",
                  "document_no": "检查文书号"}


def result_spec(department: str, items: Sequence[str]) -> tuple[SourceSpec, str]:
    """The source spec inspection results go through: one per inspecting department,
    registered like any department's spec (its text is kept with every batch)."""
    doc = {"name": f"inspection_{department}", "version": "1",
           "title": f"{department} 检查结果 (supervision domain)", "department": department, "kind": "records",
           "file": "inspection-results.jsonl", "format": "jsonl", "columns": RESULT_COLUMNS,
           "steps": [{"field": "*", "op": "trim"}], "items": sorted(set(items)),
           "unknown_subject": "quarantine", "natural_key": ["document_no"]}
    text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    return parse_yaml_model(SourceSpec, text, f"inspection spec {department}"), text


def record_result(session: Session, keyring: KeyRing, *, task_id: int, outcome: str, finding: str | None = None,
                  penalty_amount: Decimal | str | None = None, decision_no: str | None = None,
                  score: Decimal | str | None = None, inspected_on: dt.date | None = None,
                  actor: str | None = None) -> tuple[InspectionTask, CreditRecord]:
    """Enter an inspection's result; it becomes a credit record through ingestion.

    Entering a changed result for the same task later is a correction: the record's
    natural key is the task's document number, so ingestion adds a new version."""
    actor = actor or audit.default_actor()
    if outcome not in ("passed", "problems", "penalty"):
        raise InvalidInput("outcome must be passed, problems or penalty")
    t = get_task(session, task_id, lock=True)
    if t.status == "cancelled":
        raise InvalidInput(f"task {task_id} was cancelled")
    if t.policy_name is None:
        raise InvalidInput(f"task {task_id} ({t.kind}) has no policy, so no result items: record its findings "
                           "through the department's own source")
    _, p = policy(session, t.policy_name)
    item = {"passed": p.results.passed, "problems": p.results.problems, "penalty": p.results.penalty}[outcome]
    if item is None:
        raise InvalidInput(f"policy {p.name} records no penalties: the deciding department's penalty is its own record")
    if outcome == "penalty" and (penalty_amount is None or not decision_no):
        raise InvalidInput("a penalty needs its amount and the decision's document number")
    if outcome == "problems" and not (finding and finding.strip()):
        raise InvalidInput("problems found need a description")
    when = inspected_on or clock.today()
    subj = session.get(Subject, t.subject_id)
    assert subj is not None
    amount = Decimal(str(penalty_amount)) if penalty_amount is not None else None
    sc = Decimal(str(score)) if score is not None else None
    value = amount if outcome == "penalty" else sc
    words = {"passed": "未发现问题", "problems": "发现问题, 责令整改", "penalty": "依法作出行政处罚"}[outcome]
    text = "; ".join(x for x in (words, (finding or "").strip(), f"处罚决定书 {decision_no}" if decision_no else "")
                     if x)
    raw = {RESULT_COLUMNS["uscc"]: subj.uscc or "",
           RESULT_COLUMNS["resident_id"]: keyring.decrypt(subj.resident_id) if (subj.resident_id and not subj.uscc)
           else "",
           RESULT_COLUMNS["name"]: subj.name, RESULT_COLUMNS["item"]: item,
           RESULT_COLUMNS["occurred_on"]: when.isoformat(), RESULT_COLUMNS["decided_on"]: when.isoformat(),
           RESULT_COLUMNS["value"]: str(value) if value is not None else "", RESULT_COLUMNS["text"]: text,
           RESULT_COLUMNS["document_no"]: f"{p.department.upper()}-JC-{t.id}"}
    spec, spec_text = result_spec(p.department, [i for i in (p.results.passed, p.results.problems,
                                                               p.results.penalty) if i])
    sv = ingest_service.register_spec(session, spec, spec_text)
    batch = Batch(source=spec.name, spec_version_id=sv.id, file_name=f"task:{t.id}", file_hash=None,
                  kind="inspection", started_at=clock.now(), actor=actor)
    session.add(batch)
    session.flush()
    lk = _lookups(session, keyring, subj)
    w = ingest_service.BatchWriter(session, lk, spec, batch, open_quarantine=set())
    w.process(1, raw, tag="result", quarantine=False)
    w.finish()
    verdict, reason = w.outcomes.get("result", ("rejected", "no outcome"))
    if verdict == "rejected":
        raise InvalidInput(f"the result could not become a credit record: {reason}")
    rec = session.execute(select(CreditRecord).where(
        CreditRecord.source == spec.name, CreditRecord.document_no == raw[RESULT_COLUMNS["document_no"]],
        CreditRecord.is_current.is_(True))).scalar_one()
    t.status, t.outcome, t.finding, t.penalty_amount = "done", outcome, (finding or "").strip() or None, amount
    t.decision_no, t.score, t.inspected_on, t.record_id = decision_no, sc, when, rec.id
    t.batch_id, t.completed_by, t.updated_at = batch.id, actor, clock.now()
    session.flush()
    audit.append(session, action="supervision.result", actor=actor, subject_id=t.subject_id,
                 detail={"task": t.id, "outcome": outcome, "record": rec.id, "batch": batch.id, "verdict": verdict})
    return t, rec


def _lookups(session: Session, keyring: KeyRing, subj: Subject) -> ingest_service.Lookups:
    """Ingestion's look-ups for one subject (the whole register is not needed for one row)."""
    from creditgov.catalog import service as catalog_service

    items = {i.code: i for i in catalog_service.items(session)}
    for i in items.values():
        session.expunge(i)
    return ingest_service.Lookups(
        today=clock.today(), keyring=keyring, items=items, requests=catalog_service.request_status(session),
        regions={}, by_uscc={subj.uscc: subj.id} if subj.uscc else {},
        by_index={subj.resident_id_index: subj.id} if subj.resident_id_index else {})


def cancel_task(session: Session, *, task_id: int, reason: str, actor: str | None = None) -> InspectionTask:
    actor = actor or audit.default_actor()
    if not reason.strip():
        raise InvalidInput("cancelling a task needs a reason")
    t = get_task(session, task_id, lock=True)
    if t.status != "assigned":
        raise InvalidInput(f"task {task_id} is {t.status}")
    t.status, t.note, t.updated_at = "cancelled", reason.strip(), clock.now()
    audit.append(session, action="supervision.task.cancel", actor=actor, subject_id=t.subject_id,
                 detail={"task": t.id, "reason": reason})
    return t


# ----------------------------------------------------------------------------- patrol lists

PATROL_LIST_KINDS = ("black", "attention")


def patrol_list(session: Session, *, grid: str, on: dt.date | None = None) -> list[dict[str, Any]]:
    """Key targets (重点对象) of a grid for its grid workers' patrols: subjects with a red
    colour code, and subjects on a black or key-attention list in force."""
    from creditgov.alerts.models import ColourCode
    from creditgov.lists import service as lists_service
    from creditgov.lists.models import CreditList, ListEntry

    on = on or clock.today()
    root = session.execute(select(Region.path).where(Region.code == grid)).scalar()
    if root is None:
        raise NotFound(f"no region {grid!r}")
    in_grid = select(Subject.id).join(Region, Region.id == Subject.region_id).where(Region.path.startswith(root))
    reasons: dict[int, list[str]] = {}
    for sid, grade in session.execute(select(ColourCode.subject_id, ColourCode.grade)
                                              .where(ColourCode.subject_id.in_(in_grid), ColourCode.colour == "red")):
        reasons.setdefault(sid, []).append(f"红码 (等级 {grade})")
    q = (select(ListEntry.subject_id, CreditList.name_zh).join(CreditList, CreditList.code == ListEntry.list_code)
         .where(ListEntry.subject_id.in_(in_grid), CreditList.kind.in_(PATROL_LIST_KINDS),
                lists_service.in_force(on)))
    for sid, list_name in session.execute(q):
        reasons.setdefault(sid, []).append(f"列入{list_name}")
    names = _names(session, sorted(reasons))
    return [{"subject_id": sid, "name": names.get(sid, ""), "reasons": reasons[sid]} for sid in sorted(reasons)]


def assign_patrols(session: Session, *, grid: str, due_days: int = 7, actor: str | None = None) -> list[InspectionTask]:
    """Patrol tasks for the grid's key targets, assigned to its grid workers; a subject
    with an open patrol task gets no second one."""
    actor = actor or audit.default_actor()
    targets = patrol_list(session, grid=grid)
    workers = list(session.execute(select(Inspector.code).where(
        Inspector.kind == "grid_worker", Inspector.region_code == grid, Inspector.active.is_(True))
        .order_by(Inspector.code)).scalars())
    if not workers:
        raise InvalidInput(f"grid {grid} has no active grid worker in any pool")
    open_ = set(session.execute(select(InspectionTask.subject_id).where(
        InspectionTask.kind == "patrol", InspectionTask.status == "assigned")).scalars())
    now, due = clock.now(), clock.today() + dt.timedelta(days=due_days)
    out = []
    for tgt in targets:
        if tgt["subject_id"] in open_:
            continue
        t = InspectionTask(kind="patrol", draw_id=None, policy_name=None, department="grid",
                           subject_id=tgt["subject_id"], band=None, assignees=workers, due_on=due, status="assigned",
                           note="; ".join(tgt["reasons"]), created_at=now, updated_at=now, actor=actor)
        session.add(t)
        out.append(t)
    session.flush()
    if out:
        audit.append(session, action="supervision.patrol.assign", actor=actor,
                     detail={"grid": grid, "tasks": [t.id for t in out]})
    return out


# ----------------------------------------------------------------------------- periodic plans


def period_of(every: str, on: dt.date) -> str:
    if every == "month":
        return f"{on.year}-{on.month:02d}"
    if every == "quarter":
        return f"{on.year}Q{(on.month - 1) // 3 + 1}"
    if every == "half_year":
        return f"{on.year}H{1 if on.month <= 6 else 2}"
    return str(on.year)


def run_plans(url: str, *, actor: str | None = None) -> dict[str, Any]:
    """One draw per policy plan and period, with a fresh published seed. Safe to run
    twice: the plan key (policy and period) is unique, so a second run finds the draw."""
    actor = actor or "system:supervision-plans"
    today = clock.today()
    out: dict[str, Any] = {}
    with db.session_scope(url) as s:
        plans = [(p.name, p.plan) for p in policies(s) if p.plan is not None]
    for name, plan in plans:
        assert plan is not None
        key = f"{name}:{period_of(plan.every, today)}"
        try:
            with db.session_scope(url) as s:
                done = s.execute(select(Draw.id).where(Draw.plan_key == key)).scalar()
                if done is not None:
                    out[name] = {"skipped": f"draw {done} already made for {key}"}
                    continue
                res = draw(s, policy_name=name, scope=plan.scope, plan_key=key, actor=actor)
                out[name] = {"draw": res["draw_id"], "seed": res["seed"], "drawn": res["counts"]["drawn"]}
        except IntegrityError:  # another worker made this period's draw at the same moment
            out[name] = {"skipped": f"draw for {key} made concurrently"}
    return out
