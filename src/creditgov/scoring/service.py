"""Evaluation services: model versions, runs, explanations, comparison and backtests.

The one place that changes scoring state. Shipped packs (scoring/packs/*.yaml) are
registered as published versions the first time any scoring service touches a store
(`ensure_shipped`), so `creditgov init` needs no change and a store always holds the
exact text a run used.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from typing import Any

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.catalog.models import CatalogItem
from creditgov.core import clock, db
from creditgov.core.config import error_lines
from creditgov.core.errors import ConfigError, CreditGovError, InvalidInput, NotFound
from creditgov.records.models import CreditRecord
from creditgov.scoring import compile as compiler
from creditgov.scoring import engines, explain, run_store, score_copies, spark_scores
from creditgov.scoring.model import EvaluationModel, parse_model
from creditgov.scoring.models import EvaluationRun, ModelVersion, Score
from creditgov.scoring.prepared import CatalogInfo, Prepared, catalogue_errors, prepare
from creditgov.security import service as audit
from creditgov.security.crypto import KeyRing
from creditgov.subjects import service as subject_service

Progress = Callable[[str], None]

# ----------------------------------------------------------------------------- catalogue and packs


def catalog_info(session: Session) -> dict[str, CatalogInfo]:
    return {c.code: CatalogInfo(c.code, c.polarity, c.severity, c.data_class, c.name_zh)
            for c in session.execute(select(CatalogItem)).scalars()}


def shipped_catalog() -> dict[str, CatalogInfo]:
    """The shipped catalogue, for validating a model file without a store."""
    from creditgov.catalog import service as catalog_service

    cat = catalog_service.read_catalog()
    return {it.code: CatalogInfo(it.code, it.polarity, it.severity, it.data_class, it.name_zh) for it in cat.items}


@lru_cache(maxsize=1)
def shipped_texts() -> dict[str, str]:
    """name -> YAML text of every shipped pack."""
    out = {}
    for f in sorted(resources.files("creditgov.scoring").joinpath("packs").iterdir(), key=lambda f: f.name):
        if f.name.endswith(".yaml"):
            out[f.name.removesuffix(".yaml")] = f.read_text("utf-8")
    return out


def validate_text(text: str, source: str, catalog: dict[str, CatalogInfo]) -> EvaluationModel:
    """Parse and validate a model; every error names file, line and field."""
    import yaml

    model = parse_model(text, source)
    errors = catalogue_errors(model, catalog)
    if errors:
        raise ConfigError(error_lines(source, yaml.compose(text), [(tuple(loc), msg) for loc, msg in errors]))
    return model


def shipped_models() -> dict[str, EvaluationModel]:
    cat = shipped_catalog()
    return {name: validate_text(text, f"packs/{name}.yaml (shipped)", cat) for name, text in shipped_texts().items()}


def ensure_shipped(session: Session, *, actor: str | None = None) -> list[str]:
    """Register every shipped pack version the store does not have yet, as published."""
    have = {(m.name, m.version): m for m in session.execute(select(ModelVersion)).scalars()}
    added = []
    cat: dict[str, CatalogInfo] | None = None
    for name, text in shipped_texts().items():
        cat = cat or catalog_info(session) or shipped_catalog()
        model = validate_text(text, f"packs/{name}.yaml (shipped)", cat)
        key = (model.name, model.version)
        row = have.get(key)
        if row is not None:
            if row.content_hash != model.content_hash() and row.status == "published":
                raise ConfigError(f"shipped pack {model.name}@{model.version} differs from the published version "
                                  f"in this store: a changed pack needs a new version number")
            continue
        now = clock.now()
        session.add(ModelVersion(name=model.name, version=model.version, status="published",
                                 content_hash=model.content_hash(), text=text, created_at=now, published_at=now,
                                 actor=actor or "shipped"))
        added.append(f"{model.name}@{model.version}")
    if added:
        session.flush()
        audit.append(session, action="model.register_shipped", actor=actor, detail={"models": added})
    return added


# ----------------------------------------------------------------------------- versions


def parse_ref(ref: str) -> tuple[str, str | None]:
    name, _, version = ref.partition("@")
    return name.strip(), (version.strip() or None)


def versions(session: Session, name: str | None = None) -> list[ModelVersion]:
    ensure_shipped(session)
    q = select(ModelVersion).order_by(ModelVersion.name, ModelVersion.id)
    if name:
        q = q.where(ModelVersion.name == name)
    return list(session.execute(q).scalars())


def get(session: Session, ref: str) -> tuple[ModelVersion, EvaluationModel]:
    """NAME (latest published version) or NAME@VERSION (any status)."""
    ensure_shipped(session)
    name, version = parse_ref(ref)
    q = select(ModelVersion).where(ModelVersion.name == name)
    if version is None:
        q = q.where(ModelVersion.status == "published").order_by(ModelVersion.published_at.desc(),
                                                                   ModelVersion.id.desc())
    else:
        q = q.where(ModelVersion.version == version)
    row = session.execute(q.limit(1)).scalar_one_or_none()
    if row is None:
        drafts = [v for (v,) in session.execute(
            select(ModelVersion.version).where(ModelVersion.name == name, ModelVersion.status == "draft")
            .order_by(ModelVersion.id))]
        if version is None and drafts:
            ref_ = f"{name}@{drafts[-1]}"
            raise NotFound(f"{name} has no published version yet, only the draft(s) {', '.join(drafts)}: "
                           f"give {ref_} to use the draft, or publish it first (creditgov model publish {ref_})")
        known = sorted({n for (n,) in session.execute(select(ModelVersion.name))})
        what = f"{name}@{version}" if version else f"published version of {name}"
        raise NotFound(f"no {what}; models: {', '.join(known) or 'none'}")
    return row, validate_text(row.text, f"{row.name}@{row.version}", catalog_info(session))


def draft(session: Session, *, text: str, source: str, actor: str | None = None) -> ModelVersion:
    """Store a model file as a draft version (replacing an earlier draft of the same
    version). Published versions are immutable."""
    ensure_shipped(session)
    model = validate_text(text, source, catalog_info(session))
    row = session.execute(select(ModelVersion).where(ModelVersion.name == model.name,
                                                     ModelVersion.version == model.version)).scalar_one_or_none()
    if row is not None and row.status == "published":
        raise InvalidInput(f"{model.name}@{model.version} is published and immutable: give the draft a new version")
    if row is None:
        row = ModelVersion(name=model.name, version=model.version, status="draft", created_at=clock.now())
        session.add(row)
    row.text, row.content_hash, row.actor = text, model.content_hash(), actor or audit.default_actor()
    session.flush()
    audit.append(session, action="model.draft", actor=actor,
                 detail={"model": model.name, "version": model.version, "hash": row.content_hash})
    return row


def publish(session: Session, *, ref: str, actor: str | None = None) -> ModelVersion:
    name, version = parse_ref(ref)
    if version is None:
        raise InvalidInput("publish needs NAME@VERSION")
    row, _ = get(session, ref)
    if row.status == "published":
        raise InvalidInput(f"{name}@{version} is already published")
    row.status, row.published_at = "published", clock.now()
    session.flush()
    audit.append(session, action="model.publish", actor=actor,
                 detail={"model": name, "version": version, "hash": row.content_hash})
    return row


# ----------------------------------------------------------------------------- runs


@dataclass
class RunResult:
    run_id: int
    model: str
    version: str
    engine: str
    as_of: dt.date
    subjects: int
    grades: dict[str, int]
    colours: dict[str, int]
    seconds: float
    timings: dict[str, float]
    watermark: str
    published: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "model": self.model, "version": self.version, "engine": self.engine,
                "published": self.published,
                "as_of": self.as_of.isoformat(), "subjects": self.subjects, "grades": self.grades,
                "colours": self.colours, "seconds": self.seconds, "timings": self.timings,
                "watermark": self.watermark}


def prepared_for(session: Session, ref: str, as_of: dt.date) -> tuple[ModelVersion, Prepared]:
    row, model = get(session, ref)
    return row, prepare(model, catalog_info(session), as_of)


@contextlib.contextmanager
def _opened(url: str, p: Prepared, engine: str, progress: Progress | None,
            timings: dict[str, float]) -> Iterator[Any]:
    """The engine's source, its opening timed; a backend that rejects the plan inside is
    an EngineError saying which engine and why."""
    say = progress or (lambda _s: None)
    t0 = time.perf_counter()
    say(f"opening {engine}")
    with engines.open_source(engine, url, p) as src:
        timings.update(src.timings)
        timings["open"] = round(time.perf_counter() - t0, 3)
        say("evaluating")
        try:
            yield src
        except CreditGovError:
            raise
        except Exception as exc:
            raise engines.EngineError(f"engine {engine} could not run model {p.model.name}: "
                                      f"{engines.first_line(exc)}") from exc


def compute(url: str, p: Prepared, engine: str, *, progress: Progress | None = None,
            with_items: bool = False) -> tuple[pa.Table, str, dict[str, float]]:
    """Run the compiled plan on an engine: (rows sorted by subject, watermark, timings)."""
    timings: dict[str, float] = {}
    with _opened(url, p, engine, progress, timings) as src:
        return _rows(src, p, timings, with_items=with_items), src.watermark, timings


def _rows(src: Any, p: Prepared, timings: dict[str, float], *, with_items: bool = False) -> pa.Table:
    """The plan's rows on an opened source, sorted by subject, timed as `evaluate`."""
    t1 = time.perf_counter()
    table = engines.execute(src, compiler.build(p, src, with_items=with_items))
    timings["evaluate"] = round(time.perf_counter() - t1, 3)
    return table


def _compute_run(url: str, p: Prepared, engine: str, run_id: int, progress: Progress | None
                 ) -> tuple[pa.Table | spark_scores.Loaded, str, dict[str, float]]:
    """`compute` for a run that is stored: a Spark run whose executors reach the store
    leaves its scores there (spark_scores.py) instead of bringing them to the driver."""
    timings: dict[str, float] = {}
    loaded = None
    try:
        with _opened(url, p, engine, progress, timings) as src:
            if spark_scores.applies(src, url):
                expr = compiler.build(p, src).order_by("subject_id")  # the copy and the inserts in subject order
                loaded = spark_scores.load(src, expr, url, run_id, p, timings)
                return loaded, src.watermark, timings
            return _rows(src, p, timings), src.watermark, timings
    except BaseException:
        if loaded is not None:  # closing the source failed after the load: let the run's lock go
            loaded.release()
        raise


def evaluate(url: str, *, ref: str, as_of: dt.date | None = None, engine: str | None = None,
             actor: str | None = None, progress: Progress | None = None, publish: bool = False) -> RunResult:
    """Evaluate every subject in the model's scope and store the run; `publish` makes
    it the run that lists, checks and measures read (only for a published model)."""
    engine = engine or engines.DEFAULT_ENGINE
    as_of = as_of or clock.today()
    t_start = time.perf_counter()
    with db.session_scope(url) as s:
        mv, p = prepared_for(s, ref, as_of)
        engines.check(engine, p, url)
        run = EvaluationRun(model_name=mv.name, model_version=mv.version, model_hash=mv.content_hash, as_of=as_of,
                            engine=engine, status="running", started_at=clock.now(),
                            actor=actor or audit.default_actor(), subjects=0, grades={}, timings={})
        s.add(run)
        s.flush()
        run_id = run.id
    result: pa.Table | spark_scores.Loaded | None = None
    try:
        result, wm, timings = _compute_run(url, p, engine, run_id, progress)
        say = progress or (lambda _s: None)
        say("storing results")
        t0 = time.perf_counter()
        if isinstance(result, spark_scores.Loaded):  # counted, copied and in the store's load table
            grades, colours, n_rows = result.grades, result.colours, result.rows
        else:
            # The scores as Parquet beside the record segments, for analysis at scale
            # (score_copies.py); never fails the run, and whole or not read at all.
            if score_copies.write_quietly(url, run_id, result) is not None:
                timings["score_copy"] = round(time.perf_counter() - t0, 3)
                t0 = time.perf_counter()
            grades, colours, n_rows = run_store.counts(result, "grade"), run_store.counts(result, "colour"), result.num_rows
        with db.session_scope(url) as s:
            # the scores, the run marked done and its audit entry: one transaction, so a
            # crash mid-store leaves a failed run without scores, never half a run
            if isinstance(result, spark_scores.Loaded):
                run_store.store_loaded(s, run_id, result, timings)
            else:
                run_store.store_table(s, p, run_id, result, timings)
            timings["store"] = round(time.perf_counter() - t0, 3)
            seconds = round(time.perf_counter() - t_start, 3)
            done = s.get(EvaluationRun, run_id)
            assert done is not None
            grade_counts = {g.label: grades.get(g.label, 0) for g in p.model.grades}
            done.status, done.subjects, done.grades, done.timings = "done", n_rows, grade_counts, timings
            done.watermark, done.seconds, done.finished_at = wm, seconds, clock.now()
            audit.append(s, action="evaluation.run", actor=actor,
                         detail={"run": run_id, "model": f"{mv.name}@{mv.version}", "engine": engine,
                                 "as_of": as_of.isoformat(), "subjects": n_rows})
            if publish:
                publish_run(s, run_id=run_id, actor=actor)
    except BaseException:
        try:
            with db.session_scope(url) as s:
                failed = s.get(EvaluationRun, run_id)
                if failed is not None:
                    failed.status, failed.finished_at = "failed", clock.now()
        finally:
            with contextlib.suppress(Exception):  # each on its own: the run's failure is what is reported
                score_copies.discard(url, run_id)
            spark_scores.discard(url, run_id)
        raise
    finally:
        if isinstance(result, spark_scores.Loaded):
            result.release()
    return RunResult(run_id, mv.name, mv.version, engine, as_of, n_rows, grade_counts,
                     {c: colours.get(c, 0) for c in ("green", "yellow", "red")}, seconds, timings, wm, publish)


def publish_run(session: Session, *, run_id: int, actor: str | None = None) -> EvaluationRun:
    """Make a finished run of a published model version the one other domains read
    (lists, the credit check, measures): they take the latest published run."""
    run = session.get(EvaluationRun, run_id)
    if run is None:
        raise NotFound(f"evaluation run {run_id} not found")
    if run.status != "done":
        raise InvalidInput(f"run {run_id} is {run.status}; only a finished run can be published")
    mv = session.execute(select(ModelVersion).where(ModelVersion.name == run.model_name,
                                                    ModelVersion.version == run.model_version)).scalar_one_or_none()
    if mv is None or mv.status != "published" or mv.content_hash != run.model_hash:
        raise InvalidInput(f"run {run_id} used {run.model_name}@{run.model_version}, which is not a published "
                           "version: a draft's run is a preview and cannot be published")
    run.published = True
    session.flush()
    audit.append(session, action="evaluation.publish", actor=actor,
                 detail={"run": run_id, "model": f"{run.model_name}@{run.model_version}",
                         "as_of": run.as_of.isoformat()})
    return run


def runs(session: Session, *, model: str | None = None, limit: int = 50) -> list[EvaluationRun]:
    q = select(EvaluationRun).order_by(EvaluationRun.id.desc()).limit(limit)
    if model:
        q = q.where(EvaluationRun.model_name == model)
    return list(session.execute(q).scalars())


def run_scores(session: Session, run_id: int) -> dict[int, Score]:
    if session.get(EvaluationRun, run_id) is None:
        raise NotFound(f"evaluation run {run_id} not found")
    return {r.subject_id: r for r in session.execute(select(Score).where(Score.run_id == run_id)).scalars()}


# ----------------------------------------------------------------------------- explanation


def explain_subject(session: Session, keyring: KeyRing, key: str, *, ref: str, as_of: dt.date | None = None,
                    actor: str | None = None, purpose: str = "explain") -> explain.Explanation:
    """Why a subject has its score. Reading a person's explanation is a read of a
    personal file and is written to the audit chain."""
    as_of = as_of or clock.today()
    subject = subject_service.resolve(session, keyring, key)
    _, p = prepared_for(session, ref, as_of)
    data = explain.load_subject_data(session, [subject.id], items=p.used_items)[subject.id]
    result = explain.evaluate(p, data)
    if subject_service.is_personal(subject):
        audit.append(session, action="subject.read", actor=actor, subject_id=subject.id, purpose=purpose,
                     detail={"what": "evaluation explanation", "model": f"{p.model.name}@{p.model.version}",
                             "as_of": as_of.isoformat()})
    return result


def explain_many(session: Session, p: Prepared, ids: Sequence[int]) -> dict[int, explain.Explanation]:
    """Explanations for many subjects at once (no audit: an internal, batch use)."""
    data = explain.load_subject_data(session, ids, items=p.used_items)
    return {sid: explain.evaluate(p, d) for sid, d in data.items()}


# ----------------------------------------------------------------------------- compare


def compare(url: str, *, ref_a: str, ref_b: str, as_of: dt.date | None = None, engine: str | None = None,
            top: int = 10, actor: str | None = None, progress: Progress | None = None) -> dict[str, Any]:
    """Run two model versions on the same data and show what changes."""
    as_of = as_of or clock.today()
    ra = evaluate(url, ref=ref_a, as_of=as_of, engine=engine, actor=actor, progress=progress)
    rb = evaluate(url, ref=ref_b, as_of=as_of, engine=engine, actor=actor, progress=progress)
    with db.session_scope(url) as s:
        sa_, sb = run_scores(s, ra.run_id), run_scores(s, rb.run_id)
        _, pa_ = prepared_for(s, ref_a, as_of)
        _, pb = prepared_for(s, ref_b, as_of)
        both = sorted(set(sa_) & set(sb))
        labels_a = [g.label for g in pa_.model.grades]
        labels_b = [g.label for g in pb.model.grades]
        matrix = {a: {b: 0 for b in labels_b} for a in labels_a}
        deltas = []
        for sid in both:
            matrix[sa_[sid].grade][sb[sid].grade] += 1
            deltas.append((Decimal(sb[sid].score) - Decimal(sa_[sid].score), sid))
        movers = sorted(deltas, key=lambda d: (-abs(d[0]), d[1]))[:top]
        ea = explain_many(s, pa_, [sid for _, sid in movers])
        eb = explain_many(s, pb, [sid for _, sid in movers])
        mover_rows = []
        for delta, sid in movers:
            ia = {i.code: i.points for i in (*ea[sid].items, *ea[sid].bonuses)}
            ib = {i.code: i.points for i in (*eb[sid].items, *eb[sid].bonuses)}
            moved = []
            for code in sorted(set(ia) | set(ib)):
                if ia.get(code) != ib.get(code):
                    moved.append({"item": code, "a": None if code not in ia else str(ia[code]),
                                  "b": None if code not in ib else str(ib[code])})
            mover_rows.append({"subject_id": sid, "score_a": str(sa_[sid].score), "score_b": str(sb[sid].score),
                               "delta": str(delta), "grade_a": sa_[sid].grade, "grade_b": sb[sid].grade,
                               "items": moved})
    ds = sorted(d for d, _ in deltas)
    dist: dict[str, Any] = {"subjects": len(ds)}
    if ds:
        def q(f: float) -> str:
            return str(ds[min(len(ds) - 1, int(f * (len(ds) - 1) + 0.5))])
        dist.update({"min": str(ds[0]), "p10": q(0.1), "p25": q(0.25), "median": q(0.5), "p75": q(0.75),
                     "p90": q(0.9), "max": str(ds[-1]), "mean": str(round(sum(ds) / len(ds), 2)),
                     "up": sum(d > 0 for d in ds), "down": sum(d < 0 for d in ds), "same": sum(d == 0 for d in ds)})
        bins = [-100, -20, -10, -5, -1, 0, 1, 5, 10, 20, 100]
        hist: Counter[str] = Counter()
        for d in ds:
            label = "0" if d == 0 else next((f"({lo}, {hi}]" for lo, hi in zip(bins, bins[1:], strict=False)
                                             if lo < d <= hi), "<= -100" if d <= -100 else "> 100")
            hist[label] += 1
        dist["histogram"] = dict(sorted(hist.items(), key=lambda kv: _bin_key(kv[0])))
    changed = sum(matrix[a][b] for a in labels_a for b in labels_b if a != b)
    return {"a": ra.as_dict(), "b": rb.as_dict(), "subjects_compared": len(both),
            "only_in_a": len(set(sa_) - set(sb)), "only_in_b": len(set(sb) - set(sa_)),
            "grade_changed": changed, "migration": matrix, "score_change": dist, "movers": mover_rows}


def _bin_key(label: str) -> float:
    if label == "0":
        return 0.0
    if label.startswith("<="):
        return -1e9
    if label.startswith(">"):
        return 1e9
    lo, hi = label.strip("(]").split(",")
    return (float(lo) + float(hi)) / 2 + (0.0001 if float(lo) >= 0 else -0.0001)


# ----------------------------------------------------------------------------- backtest


def outcomes(session: Session, ids: Sequence[int], *, start: dt.date, end: dt.date,
             severity: Sequence[str] = ("serious",), items: Sequence[str] = ()) -> set[int]:
    """Subjects with a negative record (of the given severities or items) that occurred
    in (start, end] and was not revoked."""
    cat = catalog_info(session)
    wanted = {c for c, i in cat.items() if i.polarity == "negative"
              and (i.severity in severity if severity else True) and i.data_class != "secret"}
    if items:
        wanted = {c for c in items if c in cat and cat[c].data_class != "secret"}
    if not wanted:
        return set()
    q = (select(CreditRecord.subject_id).where(CreditRecord.item_code.in_(sorted(wanted)),
                                               CreditRecord.occurred_on > start, CreditRecord.occurred_on <= end,
                                               CreditRecord.is_current.is_(True), CreditRecord.status != "revoked")
         .distinct())
    hit = {sid for (sid,) in session.execute(q)}
    return hit & set(ids)


def auc_ks(scores: Sequence[float], bad: Sequence[bool]) -> tuple[float | None, float | None]:
    """AUC of the score at ranking good above bad (ties count one half) and the KS
    statistic (largest gap between the bad and good cumulative score distributions)."""
    n_bad = sum(bad)
    n_good = len(bad) - n_bad
    if n_bad == 0 or n_good == 0:
        return None, None
    pairs = sorted(zip(scores, bad, strict=True))
    # Mann-Whitney: average ranks over ties
    rank_sum_good = 0.0
    i = 0
    while i < len(pairs):
        j = i
        while j < len(pairs) and pairs[j][0] == pairs[i][0]:
            j += 1
        avg = (i + 1 + j) / 2
        rank_sum_good += avg * sum(1 for k in range(i, j) if not pairs[k][1])
        i = j
    auc = (rank_sum_good - n_good * (n_good + 1) / 2) / (n_good * n_bad)
    ks = 0.0
    cb = cg = 0
    i = 0
    while i < len(pairs):
        j = i
        while j < len(pairs) and pairs[j][0] == pairs[i][0]:
            cb += pairs[j][1]
            cg += not pairs[j][1]
            j += 1
        ks = max(ks, abs(cb / n_bad - cg / n_good))
        i = j
    return round(auc, 4), round(ks, 4)


def psi(expected: dict[str, int], actual: dict[str, int]) -> float | None:
    """Population stability index between two grade distributions (empty bins are
    floored at 0.0001, as scorecard tools do)."""
    import math

    te, ta = sum(expected.values()), sum(actual.values())
    if not te or not ta:
        return None
    total = 0.0
    for k in sorted(set(expected) | set(actual)):
        e = max(expected.get(k, 0) / te, 1e-4)
        a = max(actual.get(k, 0) / ta, 1e-4)
        total += (a - e) * math.log(a / e)
    return round(total, 4)


#: Outcome sources other domains register (name -> subjects with that outcome in a
#: window), e.g. "loans": borrowers whose loan went into default (finance, a seam).
OUTCOME_SOURCES: dict[str, Callable[..., set[int]]] = {}


def register_outcome_source(source: tuple[str, Callable[..., set[int]]]) -> None:
    OUTCOME_SOURCES[source[0]] = source[1]


def backtest(url: str, *, ref: str, as_of: dt.date, months: int = 12, severity: Sequence[str] = ("serious",),
             items: Sequence[str] = (), engine: str | None = None, psi_run: int | None = None,
             actor: str | None = None, progress: Progress | None = None,
             outcome_source: str | None = None) -> dict[str, Any]:
    """Score as of a past date and check the scores against what happened next (the
    negative records of `severity` or `items`, or a registered `outcome_source`)."""
    if outcome_source is not None and outcome_source not in OUTCOME_SOURCES:
        raise InvalidInput(f"unknown outcome source {outcome_source!r}; known: {', '.join(sorted(OUTCOME_SOURCES))}")
    end = clock.add_months(as_of, months)
    if end > clock.today():
        raise InvalidInput(f"the outcome window ends {end}, after today ({clock.today()}): choose an earlier --as-of")
    run = evaluate(url, ref=ref, as_of=as_of, engine=engine, actor=actor, progress=progress)
    if psi_run is None:  # (a separate unit of work: a SQLite store takes one writer at a time)
        psi_run = evaluate(url, ref=ref, as_of=end, engine=engine, actor=actor, progress=progress).run_id
    with db.session_scope(url) as s:
        scores = run_scores(s, run.run_id)
        ids = sorted(scores)
        bad = (OUTCOME_SOURCES[outcome_source](s, ids, start=as_of, end=end) if outcome_source
               else outcomes(s, ids, start=as_of, end=end, severity=severity, items=items))
        _, model = get(s, ref)
        labels = [g.label for g in model.grades]
        other = run_scores(s, psi_run)
    auc, ks = auc_ks([float(scores[i].score) for i in ids], [i in bad for i in ids])
    per_grade: list[dict[str, Any]] = []
    for g in labels:
        members = [i for i in ids if scores[i].grade == g]
        n_bad = sum(i in bad for i in members)
        per_grade.append({"grade": g, "subjects": len(members), "outcomes": n_bad,
                          "rate": round(n_bad / len(members), 4) if members else None})
    rates = [r["rate"] for r in per_grade if r["rate"] is not None]
    monotonic = all(a <= b for a, b in zip(rates, rates[1:], strict=False))
    dist_a = Counter(sc.grade for sc in scores.values())
    dist_b = Counter(sc.grade for sc in other.values())
    return {"run_id": run.run_id, "model": f"{run.model}@{run.version}", "as_of": as_of.isoformat(),
            "outcome": {"window_end": end.isoformat(), "severity": list(severity), "items": list(items),
                        "source": outcome_source},
            "subjects": len(ids), "outcomes": len(bad), "auc": auc, "ks": ks, "by_grade": per_grade,
            "monotonic": monotonic, "psi": {"against_run": psi_run, "value": psi(dict(dist_a), dict(dist_b))}}

