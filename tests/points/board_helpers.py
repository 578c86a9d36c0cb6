"""Builders for the boards' tests: a small county with streets and grids, published
and unpublished runs with chosen scores, residents who opted in or withdrew, and
merchants for a credit-merchant selection — real rows through the domain's services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.core import db
from creditgov.points import boards
from creditgov.scoring import service as scoring_service
from creditgov.scoring.models import EvaluationRun, ModelVersion, Score
from creditgov.subjects.models import Region, Subject
from tests.lists.helpers import add_record, make_subject

NASTY = '"><script>alert(1)</script> O\'Brien “引号” \u202e😀'


def region(session: Session, code: str, name: str, parent: Region | None) -> Region:
    depth = 0 if parent is None else parent.depth + 1
    r = Region(code=code, name=name, level=("county", "street", "grid")[depth], depth=depth,
               parent_id=parent.id if parent else None, path=(parent.path if parent else "/") + code + "/")
    session.add(r)
    session.flush()
    return r


def run(session: Session, model: str, rows: list[tuple[Subject, float, str]], *, published: bool = True,
        as_of: dt.date = dt.date(2026, 9, 30)) -> EvaluationRun:
    scoring_service.ensure_shipped(session, actor="test")
    mv = session.execute(select(ModelVersion).where(ModelVersion.name == model, ModelVersion.status == "published")
                         .order_by(ModelVersion.id.desc()).limit(1)).scalar_one()
    r = EvaluationRun(model_name=model, model_version=mv.version, model_hash=mv.content_hash, as_of=as_of,
                      engine="test", status="done", published=published, subjects=len(rows), grades={}, timings={},
                      started_at=dt.datetime(2026, 10, 1), finished_at=dt.datetime(2026, 10, 1))
    session.add(r)
    session.flush()
    for s, score, grade in rows:
        session.add(Score(run_id=r.id, subject_id=s.id, score=Decimal(str(score)), grade=grade, colour="green",
                          dimensions={}))
    session.flush()
    return r


def placed(session: Session, kind: str, name: str, where: Region) -> Subject:
    s = make_subject(session, kind=kind, name=name)
    s.region_id = where.id
    session.flush()
    return s


def build(store: str) -> dict[str, int]:
    """Two streets (the first with two grids), firms ranked by two models, residents
    (one opted in, one who withdrew), and merchants for a selection."""
    with db.session_scope(store) as s:
        top = region(s, "C", "县", None)
        s1, s2 = region(s, "S1", "一街道", top), region(s, "S2", "二街道", top)
        g1, g2 = region(s, "S1G1", "一网格", s1), region(s, "S1G2", "二网格", s1)
        firms = [placed(s, "enterprise", f"企业{i}", g1 if i % 2 else g2) for i in range(7)]
        firms[0].name = NASTY
        far = placed(s, "enterprise", "远方企业", s2)
        # Equal scores at 90 share rank 2; the same firm also has a 0-950 score elsewhere.
        scores = [95, 90, 90, 80, 70, 60, 50]
        run(s, "public-credit-enterprise", [(f, sc, "A" if sc >= 88 else "B") for f, sc in zip(firms, scores, strict=True)]
            + [(far, 99, "A")])
        run(s, "qianjiang-score", [(firms[3], 800, "极好")])
        run(s, "public-credit-enterprise", [(f, 10, "D") for f in firms], published=False, as_of=dt.date(2026, 10, 31))
        shy = placed(s, "individual", "李四海", g1)
        shown = placed(s, "individual", "王建国", g1)
        run(s, "community-resident", [(shy, 930, "AAA"), (shown, 720, "A")])
        boards.set_opt_in(s, subject_id=shown.id, opted_in=True, actor="王建国")
        boards.set_opt_in(s, subject_id=shy.id, opted_in=True, actor="李四海")
        boards.set_opt_in(s, subject_id=shy.id, opted_in=False, actor="李四海")   # and withdrew
        # Merchants for the selection: two excellent, one excellent with a recent penalty, one fair.
        ms = [placed(s, "merchant", n, g1) for n in ("诚信小店", NASTY[:30], "罚过小店", "一般小店")]
        run(s, "yiwu-ecommerce", [(ms[0], 88, "A"), (ms[1], 86, "A"), (ms[2], 90, "A"), (ms[3], 70, "C")])
        add_record(s, ms[2], "market.penalty_minor", occurred_on=dt.date(2026, 3, 1))
        return {"far": far.id, "firm0": firms[0].id, "firm3": firms[3].id, "shy": shy.id, "shown": shown.id,
                **{f"m{i}": m.id for i, m in enumerate(ms)}}
