"""Random draws (双随机一公开) under a supervision policy: the candidates with their
bands, the draw recorded with its published seed and inputs so anyone can re-run it,
the inspection tasks it creates, and the periodic plans that make one draw per
policy and period. The algorithm itself (deterministic from the seed) is `draw.py`.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from creditgov.core import clock, db
from creditgov.core.db import bulk_insert
from creditgov.core.errors import InvalidInput, NotFound
from creditgov.records import received
from creditgov.scoring import published
from creditgov.scoring.models import Score
from creditgov.security import service as audit
from creditgov.subjects import service as subject_service
from creditgov.subjects.models import Region, Subject
from creditgov.supervision import draw as drawing
from creditgov.supervision.models import Draw, DrawItem, InspectionTask
from creditgov.supervision.schemas import PolicyDef
from creditgov.supervision.service import policies, policy, pool_members

SCOPE_KEYS = ("region", "industry", "kind")

# ----------------------------------------------------------------------------- candidates


def _latest_run(session: Session, model: str, as_of: dt.date) -> int | None:
    return session.execute(published.latest_run_id(model, as_of)).scalar()


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
            raise NotFound(f"no region {scope['region']!r}", code="supervision.region.unknown",
                           params={"region": scope["region"]})
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
    # An inspection another platform made and sent by the exchange counts too: the
    # yearly cap protects the subject from repeated inspections, whoever made them.
    for sid, n in received.inspected_since(session, as_of - dt.timedelta(days=365)).items():
        recent[sid] = recent.get(sid, 0) + n
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
        raise InvalidInput("a seed is a non-negative whole number (at most 30 digits)", code="supervision.draw.bad_seed",
                           params={"max": 30})
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
    names = subject_names(session, [c.ids[x.key] for x in picks])
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


def subject_names(session: Session, ids: Sequence[int]) -> dict[int, str]:
    """Subjects' display names (people masked) by id, for draws, tasks and patrol lists."""
    out: dict[int, str] = {}
    for k in range(0, len(ids), 900):
        for s in session.execute(select(Subject).where(Subject.id.in_(list(ids[k:k + 900])))).scalars():
            out[s.id] = subject_service.display_name(s, masked=True)
    return out


def get_draw(session: Session, draw_id: int) -> Draw:
    d = session.get(Draw, draw_id)
    if d is None:
        raise NotFound(f"draw {draw_id} not found", code="supervision.draw.not_found", params={"id": draw_id})
    return d


def published_inputs(d: Draw) -> str:
    """The draw's inputs as published: canonical JSON carrying both hashes, the file
    `creditgov supervise replay` checks (recipe in docs/supervision.md)."""
    return drawing.canonical(drawing.published(json.loads(d.inputs), d.inputs_hash, d.result_hash))


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


def draw_dict(session: Session, d: Draw, *, with_items: bool = True,
              only: Collection[int] | None = None) -> dict[str, Any]:
    """A draw as shown. `only`: the drawn subjects the reader may see (None: all);
    the others are left out and counted in `items_outside_scope`, while the seed,
    hashes and counts — what makes the draw verifiable — stay whole."""
    out: dict[str, Any] = {"draw_id": d.id, "policy": d.policy_name, "policy_version": d.policy_version,
                           "policy_hash": d.policy_hash, "seed": d.seed, "as_of": d.as_of.isoformat(),
                           "scope": d.scope, "runs": d.runs, "inputs_hash": d.inputs_hash,
                           "result_hash": d.result_hash, "counts": d.counts, "status": d.status,
                           "plan_key": d.plan_key, "created_at": d.created_at.isoformat(timespec="seconds"),
                           "actor": d.actor}
    if with_items:
        items = list(session.execute(select(DrawItem).where(DrawItem.draw_id == d.id)
                                     .order_by(DrawItem.rank, DrawItem.subject_key)).scalars())
        shown = items if only is None else [i for i in items if i.subject_id in only]
        names = subject_names(session, [i.subject_id for i in shown])
        out["items"] = [{"subject_id": i.subject_id, "key": i.subject_key, "name": names.get(i.subject_id, ""),
                         "band": i.band, "inspectors": list(i.inspectors)} for i in shown]
        out["items_outside_scope"] = len(items) - len(shown)
    return out


def draws(session: Session, *, policy_name: str | None = None, limit: int = 50) -> list[Draw]:
    q = select(Draw).order_by(Draw.id.desc()).limit(limit)
    if policy_name:
        q = q.where(Draw.policy_name == policy_name)
    return list(session.execute(q).scalars())


# ----------------------------------------------------------------------------- tasks of a draw


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
                           status="assigned", created_at=now, updated_at=now, assigned_at=now, actor=actor)
        session.add(t)
        out.append(t)
    d.status = "tasked"
    session.flush()
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
