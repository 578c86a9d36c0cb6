"""The public boards (信用公示牌) of a street or a grid: what the public sees there.

A board is read, never stored. Its ranking is one table per evaluation model and
subject kind, from that model's newest *published* run: scores of different models
are on different scales (a resident's 350–950, a firm's 0–100) and never share a
ranking, so a firm scored by two models appears once in each model's table. Rows are
paged, never cut off. Beside the ranking: the red and black lists in force there, the
subjects a recommendation list names (`reports.recommend`), and the credit merchants
awarded (`points.merchants`). Residents appear only masked and only if they opted in
(`BoardOptIn`); their ID numbers never.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import yaml
from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from creditgov.core import clock
from creditgov.core.errors import NotFound
from creditgov.lists.models import CreditList, ListEntry
from creditgov.lists.queries import listed_on
from creditgov.points.models import BoardOptIn, MerchantCandidate, MerchantSelection
from creditgov.records.models import CreditRecord
from creditgov.reports import recommend
from creditgov.scoring import bands, published
from creditgov.scoring.models import EvaluationRun, ModelVersion, Score
from creditgov.scoring.published import band_table
from creditgov.security import service as audit
from creditgov.security.crypto import mask_name
from creditgov.subjects.models import Region, Subject

PER_PAGE = 50
#: Subject kinds in words (Chinese, English), for the tables' headings.
KIND_LABELS: dict[str, tuple[str, str]] = {
    "individual": ("居民", "residents"), "merchant": ("个体工商户", "merchants"),
    "enterprise": ("企业", "enterprises"), "homestay": ("民宿", "homestays"),
    "social_org": ("社会组织", "social organisations"),
}
LIST_KINDS = ("red", "black")


def kind_label(kind: str) -> tuple[str, str]:
    return KIND_LABELS.get(kind, (kind, kind))


def is_personal(s: Subject) -> bool:
    return s.kind == "individual" or s.resident_id_index is not None


def public_name(s: Subject) -> str:
    return mask_name(s.name) if is_personal(s) else s.name


def shown() -> ColumnElement[bool]:
    """Who may be on a board: every firm; a resident only while opted in."""
    opted = select(BoardOptIn.subject_id).where(BoardOptIn.opted_in.is_(True))
    return or_(and_(Subject.kind != "individual", Subject.resident_id_index.is_(None)), Subject.id.in_(opted))


# ------------------------------------------------------------------ the resident's choice
def set_opt_in(session: Session, *, subject_id: int, opted_in: bool, actor: str) -> BoardOptIn:
    """A resident chooses to appear on the boards (masked) or not; audited."""
    s = session.get(Subject, subject_id)
    if s is None:
        raise NotFound(f"subject {subject_id} not found")
    row = session.get(BoardOptIn, subject_id, with_for_update=True)
    if row is None:
        row = BoardOptIn(subject_id=subject_id, opted_in=opted_in, changed_at=clock.now(), actor=actor)
        session.add(row)
    else:
        row.opted_in, row.changed_at, row.actor = opted_in, clock.now(), actor
    session.flush()
    audit.append(session, action="points.board.opt_in" if opted_in else "points.board.opt_out", actor=actor,
                 subject_id=subject_id, detail={"opted_in": opted_in})
    return row


def opted_in(session: Session, subject_id: int) -> bool:
    row = session.get(BoardOptIn, subject_id)
    return bool(row and row.opted_in)


# ------------------------------------------------------------------ regions and runs
def region_of(session: Session, code: str | None) -> Region | None:
    """The board's street or grid; without a code, the first street."""
    q = select(Region).where(Region.code == code) if code else \
        select(Region).where(Region.depth == 1).order_by(Region.path).limit(1)
    region = session.execute(q).scalar_one_or_none()
    if code and region is None:
        raise NotFound(f"no street or grid {code!r}")
    return region


def in_region(region: Region | None) -> ColumnElement[bool]:
    if region is None:
        return Subject.id.is_not(None)
    return Subject.region_id.in_(select(Region.id).where(Region.path.startswith(region.path)))


def published_runs(session: Session) -> list[EvaluationRun]:
    """The latest published run of each model (`scoring.published.latest_runs`, as the
    check, the matching and the merchants read it): what the public may see."""
    return list(session.execute(published.latest_runs()).scalars())


def model_titles(session: Session, run: EvaluationRun) -> tuple[str, str]:
    """The run's model version's title (Chinese, English), from the stored model text."""
    text = session.execute(select(ModelVersion.text).where(ModelVersion.name == run.model_name,
                                                           ModelVersion.version == run.model_version)).scalar()
    return _titles(run.model_name, text or "")


@lru_cache(maxsize=64)
def _titles(name: str, text: str) -> tuple[str, str]:
    """Parsed once per model text: a pack is large and YAML slow (it was most of a board's time)."""
    doc = yaml.safe_load(text) if text else None
    if not isinstance(doc, dict):
        return name, name
    return str(doc.get("title") or name), str(doc.get("title_en") or doc.get("title") or name)


def tables(session: Session, region: Region | None) -> list[dict[str, Any]]:
    """The board's tables: one per published model and subject kind with rows here."""
    runs = published_runs(session)
    if not runs:
        return []
    q = (select(Score.run_id, Subject.kind, func.count()).join(Subject, Subject.id == Score.subject_id)
         .where(Score.run_id.in_([r.id for r in runs]), in_region(region), shown())
         .group_by(Score.run_id, Subject.kind))
    counts = {(rid, kind): int(n) for rid, kind, n in session.execute(q).tuples()}
    out = []
    for run in runs:
        zh, en = model_titles(session, run)
        for (rid, kind), n in sorted(counts.items(), key=lambda kv: kv[0][1]):
            if rid == run.id:
                out.append({"model": run.model_name, "model_label": (zh, en), "kind": kind,
                            "kind_label": kind_label(kind), "run_id": run.id, "as_of": run.as_of.isoformat(),
                            "version": run.model_version, "subjects": n})
    return out


# ------------------------------------------------------------------ the ranking
def ranking(session: Session, *, region_code: str | None, model: str | None = None, kind: str | None = None,
            page: int = 1, per_page: int = PER_PAGE) -> dict[str, Any]:
    """One model's and one kind's ranking in a street or grid, best first, one row
    per subject, paged. Equal scores share a rank (1, 2, 2, 4); the order within a
    tie is the subject's number, so pages never overlap."""
    region = region_of(session, region_code)
    available = tables(session, region)
    table = next((t for t in available if (model is None or t["model"] == model)
                  and (kind is None or t["kind"] == kind)), None)
    head: dict[str, Any] = {"region": _region_dict(region), "tables": available, "table": table,
                            "page": page, "per_page": per_page, "pages": 0, "total": 0, "rows": []}
    if table is None:
        return head
    total = int(table["subjects"])
    grades = band_table(session.connection()).get((table["model"], table["version"]), {})
    rank = func.rank().over(order_by=Score.score.desc()).label("rank")
    ranked = (select(Score.subject_id, Score.score, Score.grade, Score.colour, rank)
              .join(Subject, Subject.id == Score.subject_id)
              .where(Score.run_id == table["run_id"], Subject.kind == table["kind"], in_region(region), shown())
              .subquery())
    q = (select(ranked, Subject, Region.name).join(Subject, Subject.id == ranked.c.subject_id)
         .outerjoin(Region, Region.id == Subject.region_id)
         .order_by(ranked.c.rank, ranked.c.subject_id).offset((page - 1) * per_page).limit(per_page))
    rows = []
    for _sid, score, grade, colour, rk, s, rname in session.execute(q).tuples():
        band = grades.get(grade)
        rows.append({"rank": int(rk), "subject_id": None if is_personal(s) else s.id, "name": public_name(s),
                     "uscc": None if is_personal(s) else s.uscc, "region": rname, "score": str(score),
                     "grade": grade, "band": band, "band_label": bands.LABELS.get(band or "", (None, None)),
                     "colour": colour})
    return {**head, "total": total, "pages": max(math.ceil(total / per_page), 1), "rows": rows}


# ------------------------------------------------------------------ lists, recommendations, awards
def listed(session: Session, region: Region | None, *, limit: int = 100) -> list[dict[str, Any]]:
    """Red and black list entries in force today among this board's subjects."""
    q = (select(ListEntry, CreditList, Subject).join(CreditList, CreditList.code == ListEntry.list_code)
         .join(Subject, Subject.id == ListEntry.subject_id)
         .where(listed_on(clock.today()), ListEntry.status == "published", CreditList.kind.in_(LIST_KINDS),
                in_region(region), shown())
         .order_by(CreditList.kind.desc(), ListEntry.published_on.desc(), ListEntry.id.desc()).limit(limit))
    return [{"list": lst.code, "list_label": (lst.name_zh, lst.name_en), "list_kind": lst.kind,
             "name": public_name(s), "uscc": None if is_personal(s) else s.uscc, "decision_no": e.decision_no,
             "published_on": clock.iso(e.published_on), "expires_on": clock.iso(e.expires_on)}
            for e, lst, s in session.execute(q).tuples()]


def recommended(session: Session, region: Region | None, *, limit: int = 50) -> list[dict[str, Any]]:
    """Each recommendation list (e.g. homestays of 85 points and above) cut to this
    board's subjects; residents only if opted in."""
    here = set(session.execute(select(Subject.id).where(in_region(region), shown())).scalars())
    out = []
    for code in sorted(recommend.definitions()):
        r = recommend.recommended(session, code)
        rows = [row for row in r["rows"] if row["id"] in here][:limit]
        out.append({"code": code, "title": (r["title_zh"], r["title_en"]), "min_score": r["min_score"],
                    "as_of": r["as_of"], "rows": rows})
    return out


def awarded(session: Session, region: Region | None, *, limit: int = 100) -> list[dict[str, Any]]:
    """Credit merchants awarded by a decided selection whose record still stands."""
    q = (select(MerchantCandidate, MerchantSelection, Subject, Region.name)
         .join(MerchantSelection, MerchantSelection.id == MerchantCandidate.selection_id)
         .join(Subject, Subject.id == MerchantCandidate.subject_id)
         .join(CreditRecord, CreditRecord.id == MerchantCandidate.record_id)
         .outerjoin(Region, Region.id == Subject.region_id)
         .where(MerchantCandidate.status == "awarded", CreditRecord.status == "active",
                CreditRecord.is_current.is_(True), in_region(region), shown())
         .order_by(MerchantSelection.decided_on.desc(), Subject.id).limit(limit))
    return [{"selection": sel.code, "title": sel.title, "decision_no": sel.decision_no,
             "decided_on": clock.iso(sel.decided_on), "name": public_name(s),
             "uscc": None if is_personal(s) else s.uscc, "region": rname}
            for c, sel, s, rname in session.execute(q).tuples()]


def board(session: Session, *, region_code: str | None, model: str | None = None, kind: str | None = None,
          page: int = 1, per_page: int = PER_PAGE) -> dict[str, Any]:
    """Everything one street's or grid's board shows."""
    out = ranking(session, region_code=region_code, model=model, kind=kind, page=page, per_page=per_page)
    region = region_of(session, out["region"]["code"]) if out["region"] else None
    return {**out, "lists": listed(session, region), "recommended": recommended(session, region),
            "awards": awarded(session, region), "on": clock.today().isoformat()}


def _region_dict(r: Region | None) -> dict[str, Any] | None:
    return {"code": r.code, "name": r.name, "level": r.level, "depth": r.depth} if r else None


def regions(session: Session) -> list[dict[str, Any]]:
    """Streets and grids, for the board's picker."""
    q = select(Region).where(Region.depth.in_((1, 2))).order_by(Region.path)
    return [{"code": r.code, "name": r.name, "level": r.level, "depth": r.depth} for r in session.execute(q).scalars()]
