"""Matching financing needs with approved loan products, set-based, with reasons.

Every (need, product) pair whose product serves the need's subject kind is judged on
five criteria (six where the policy excludes borrowers in default), each kept with how far it misses, so a match explains itself:

- band: the subject's shared band (scoring/bands.py) in the latest published run of
  any model the product names is at least that model's floor (`band_gap`: bands short);
- lists: the subject is on none of the lists the product excludes (`lists_hit`);
- amount: the need's amount is inside the product's range (`amount_gap`: the share of
  the need outside it);
- term: the need's term is inside the range (`term_gap`: months outside);
- collateral: the product is collateral-free, or the need can offer collateral;
- standing: where the policy excludes them (`in_default` in data/fund.yaml), the
  subject has no loan of this platform in default. It is not a column of its own: a
  pair fails it when its `fails` count more criteria than the five above miss
  (`standing_held`).

The whole judgement is one DuckDB query over five small columnar tables (`Facts`),
written from the criteria in force: the models and lists the products name become
columns (a subject's band rank per model, a bit per list), so the query is a hash join
on kind and column arithmetic — no per-pair Python. Kept: every eligible pair and the
near misses (one criterion failing, the standing aside), the best `KEEP_PER_NEED` per
need by score.
`benchmarks/matching.py` times it beside a hand-written join of the same criteria.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from creditgov.core import clock
from creditgov.core.duck import connect as duck_connect
from creditgov.finance.models import FinancingNeed, Loan, LoanProduct, MatchState, NeedMatch
from creditgov.finance.policy import policy
from creditgov.lists.models import ListEntry
from creditgov.lists.queries import listed_on
from creditgov.scoring import bands as band_rules
from creditgov.scoring import published
from creditgov.scoring.models import EvaluationRun, ModelVersion, Score
from creditgov.scoring.published import band_table
from creditgov.security import service as audit
from creditgov.subjects.models import Subject

KEEP_PER_NEED = 20
CRITERIA = ("band", "lists", "amount", "term", "collateral")


@dataclass
class Facts:
    """The matcher's input, columnar.

    needs(need_id, subject_id, kind, amount, term, collateral);
    products(product_id, amount_min, amount_max, term_min, term_max, rate_min, collateral_free);
    product_kinds(product_id, kind); product_bands(product_id, model, floor_rank);
    product_lists(product_id, list_code); subject_bands(subject_id, model, band_rank);
    subject_lists(subject_id, list_code); subject_defaults(subject_id): the subjects
    with a loan in default, when the policy excludes them (None: nobody is excluded)."""

    needs: pa.Table
    products: pa.Table
    product_kinds: pa.Table
    product_bands: pa.Table
    product_lists: pa.Table
    subject_bands: pa.Table
    subject_lists: pa.Table
    subject_defaults: pa.Table | None = None


def standing_held(m: Any) -> bool:
    """Whether a kept match holds the standing criterion (no loan in default): its
    `fails` count no more than the five stored criteria miss."""
    missed = sum(not ok for ok in (m.band_ok, m.lists_ok, m.amount_ok, m.term_ok, m.collateral_ok))
    return bool(m.fails <= missed)


def _ident(i: int, prefix: str) -> str:
    return f"{prefix}{i}"


def _quote(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


#: The pairs kept: eligible, or missing one criterion besides the standing (a subject in
#: default still sees how near each product is, and why none is open to it now).
NEAR = "fails - (NOT standing_ok)::INT <= 1"
ALL_PAIRS = "nx n JOIN product_kinds k ON k.kind = n.kind JOIN px p ON p.product_id = k.product_id"
KEPT_PAIRS = "kept JOIN nx n ON n.need_id = kept.need_id JOIN px p ON p.product_id = kept.product_id"


def plan(models: Sequence[str], lists: Sequence[str], keep: int | None = KEEP_PER_NEED, *,
         defaults: bool = False) -> str:
    """The query for these models and lists (each becomes columns; see the module);
    with `defaults`, the subjects of the table `subject_defaults` fail the standing
    criterion."""
    band_names = "[" + ", ".join(_quote(b) for b in band_rules.BANDS) + "]"
    sb_cols = ", ".join(f"max(band_rank) FILTER (WHERE model = {_quote(m)}) AS {_ident(i, 'r')}"
                        for i, m in enumerate(models)) or "NULL AS r_none"
    pb_cols = ", ".join(f"max(floor_rank) FILTER (WHERE model = {_quote(m)}) AS {_ident(i, 'f')}"
                        for i, m in enumerate(models)) or "NULL AS f_none"
    bit = {code: 1 << i for i, code in enumerate(lists)}
    sl_mask = ("bit_or(CASE list_code " + " ".join(f"WHEN {_quote(c)} THEN {b}::BIGINT" for c, b in bit.items())
               + " ELSE 0::BIGINT END)") if lists else "0::BIGINT"
    hit_names = ("concat_ws(',', " + ", ".join(f"CASE WHEN (hit & {b}) <> 0 THEN {_quote(c)} END"
                                                for c, b in bit.items()) + ")") if lists else "NULL"
    gaps_x = [f"(n.{_ident(i, 'r')} - p.{_ident(i, 'f')})" for i in range(len(models))]
    best_x = f"least({', '.join(gaps_x)})" if len(gaps_x) > 1 else (gaps_x[0] if gaps_x else "NULL")
    # The band columns ride along to the kept rows, where the deciding model is named.
    carry = "".join(f"n.{_ident(i, 'r')}, p.{_ident(i, 'f')}, " for i in range(len(models)))
    gaps = [f"({_ident(i, 'r')} - {_ident(i, 'f')})" for i in range(len(models))]
    best = "best_gap"
    which = ("CASE " + " ".join(f"WHEN {g} = {best} THEN {_quote(m)}" for g, m in zip(gaps, models, strict=True))
             + " END") if models else "NULL"
    got = ("CASE " + " ".join(f"WHEN {g} = {best} THEN {band_names}[{_ident(i, 'r')} + 1]"
                              for i, g in enumerate(gaps)) + " END") if models else "NULL"
    score = ("(5 - fails) * 100.0 - band_gap * 10.0 - least(amount_gap, 1.0) * 50.0 - least(term_gap, 60) * 0.5"
             " - rate_min")
    body = f"""SELECT need_id, product_id, fails = 0 AS eligible, fails, {score} AS score,
       band_ok, {which} AS band_model, {got} AS band_got, band_gap::INT AS band_gap, lists_ok,
       {hit_names} AS lists_hit,
       amount_ok, amount_gap, term_ok, term_gap::INT AS term_gap, collateral_ok
FROM z"""
    def judged(sfx: str, source: str) -> str:
        """Every criterion of the pairs `source` yields (n a need, p a product)."""
        return f"""x{sfx} AS (
  SELECT n.need_id, p.product_id, p.rate_min, p.nfloors, {best_x} AS best_gap, {carry}
         n.lmask & p.pmask AS hit,
         CASE WHEN n.amount < p.amount_min THEN (p.amount_min - n.amount) / n.amount
              WHEN n.amount > p.amount_max THEN (n.amount - p.amount_max) / n.amount ELSE 0.0 END AS amount_gap,
         CASE WHEN n.term < p.term_min THEN p.term_min - n.term
              WHEN n.term > p.term_max THEN n.term - p.term_max ELSE 0 END AS term_gap,
         (p.collateral_free OR n.collateral) AS collateral_ok, NOT n.in_default AS standing_ok
  FROM {source}
),
y{sfx} AS (
  SELECT *, (nfloors = 0 OR coalesce(best_gap, 9) <= 0) AS band_ok,
         CASE WHEN nfloors = 0 THEN 0 ELSE greatest(coalesce(best_gap, {len(band_rules.BANDS)}), 0) END AS band_gap,
         hit = 0 AS lists_ok, amount_gap = 0 AS amount_ok, term_gap = 0 AS term_ok
  FROM x{sfx}
),
z{sfx} AS (
  SELECT *, (NOT band_ok)::INT + (NOT lists_ok)::INT + (NOT amount_ok)::INT + (NOT term_ok)::INT
            + (NOT collateral_ok)::INT + (NOT standing_ok)::INT AS fails
  FROM y{sfx}
)"""

    if keep:
        # The best `keep` per need, chosen on narrow rows (need, product, score: a bounded
        # top-n per group, ties to the lower product id, no sort of all rows); only the
        # kept pairs get their reasons spelled out.
        top = f""",
s AS (SELECT need_id, product_id, {score} AS score FROM z WHERE {NEAR}),
kept AS (SELECT need_id, unnest(max_by(product_id, (score, -product_id), {keep})) AS product_id
         FROM s GROUP BY need_id)"""
        top += ",\n" + judged("k", KEPT_PAIRS)
        final = body.replace("FROM z", "FROM zk")
    else:
        top, final = "", f"{body} WHERE {NEAR}"

    in_default = "sd.subject_id IS NOT NULL" if defaults else "FALSE"
    defaults_join = ("LEFT JOIN (SELECT DISTINCT subject_id FROM subject_defaults) sd ON sd.subject_id = n.subject_id"
                     if defaults else "")
    return f"""
WITH sb AS (SELECT subject_id, {sb_cols} FROM subject_bands GROUP BY subject_id),
pb AS (SELECT product_id, count(*) AS floors, {pb_cols} FROM product_bands GROUP BY product_id),
sl AS (SELECT subject_id, {sl_mask} AS mask FROM subject_lists GROUP BY subject_id),
pl AS (SELECT product_id, {sl_mask} AS mask FROM product_lists GROUP BY product_id),
nx AS (SELECT n.*, sb.* EXCLUDE (subject_id), coalesce(sl.mask, 0) AS lmask, {in_default} AS in_default
       FROM needs n LEFT JOIN sb ON sb.subject_id = n.subject_id LEFT JOIN sl ON sl.subject_id = n.subject_id
       {defaults_join}),
px AS (SELECT p.*, pb.* EXCLUDE (product_id, floors), coalesce(pb.floors, 0) AS nfloors, coalesce(pl.mask, 0) AS pmask FROM products p
       LEFT JOIN pb ON pb.product_id = p.product_id LEFT JOIN pl ON pl.product_id = p.product_id),
{judged("", ALL_PAIRS)}{top}
{final}
"""


def compute(facts: Facts, *, keep: int | None = KEEP_PER_NEED) -> pa.Table:
    """Judge every pair of the facts; the kept rows as an Arrow table."""
    models = sorted(set(facts.product_bands.column("model").to_pylist()))
    lists = sorted(set(facts.product_lists.column("list_code").to_pylist()))
    con = duck_connect()
    try:
        for name in ("needs", "products", "product_kinds", "product_bands", "product_lists", "subject_bands",
                     "subject_lists"):
            con.register(name, getattr(facts, name))
        if facts.subject_defaults is not None:
            con.register("subject_defaults", facts.subject_defaults)
        return con.execute(plan(models, lists, keep, defaults=facts.subject_defaults is not None)).to_arrow_table()
    finally:
        con.close()


# ----------------------------------------------------------------------------- facts from the store


def latest_runs(session: Session) -> dict[str, tuple[int, str]]:
    """model -> (its latest published run, that run's model version)."""
    out: dict[str, tuple[int, str]] = {}
    q = published.latest_runs(None, EvaluationRun.model_name, EvaluationRun.id, EvaluationRun.model_version)
    for model, run_id, version in session.execute(q):
        out[model] = (run_id, version)
    return out


def _products_q(product_ids: Sequence[int] | None) -> Any:
    q = select(LoanProduct).where(LoanProduct.status == "approved")
    return q.where(LoanProduct.id.in_(product_ids)) if product_ids is not None else q


def load_facts(session: Session, *, need_ids: Sequence[int] | None = None,
               product_ids: Sequence[int] | None = None) -> Facts:
    """The open needs (or those named) and approved products (or those named) with the
    bands and lists of the needs' subjects, as of today."""
    nq = (select(FinancingNeed.id, FinancingNeed.subject_id, Subject.kind, FinancingNeed.amount,
                 FinancingNeed.term_months, FinancingNeed.collateral)
          .join(Subject, Subject.id == FinancingNeed.subject_id).where(FinancingNeed.status == "open"))
    if need_ids is not None:
        nq = nq.where(FinancingNeed.id.in_(need_ids))
    nrows = session.execute(nq).all()
    needs = pa.table({"need_id": pa.array([r[0] for r in nrows], pa.int64()),
                      "subject_id": pa.array([r[1] for r in nrows], pa.int64()),
                      "kind": pa.array([r[2] for r in nrows], pa.string()),
                      "amount": pa.array([float(r[3]) for r in nrows], pa.float64()),
                      "term": pa.array([r[4] for r in nrows], pa.int32()),
                      "collateral": pa.array([bool(r[5]) for r in nrows], pa.bool_())})
    prods = list(session.execute(_products_q(product_ids)).scalars())
    products = pa.table({"product_id": pa.array([p.id for p in prods], pa.int64()),
                         "amount_min": pa.array([float(p.amount_min) for p in prods], pa.float64()),
                         "amount_max": pa.array([float(p.amount_max) for p in prods], pa.float64()),
                         "term_min": pa.array([p.term_min for p in prods], pa.int32()),
                         "term_max": pa.array([p.term_max for p in prods], pa.int32()),
                         "rate_min": pa.array([float(p.rate_min) for p in prods], pa.float64()),
                         "collateral_free": pa.array([p.collateral_free for p in prods], pa.bool_())})
    pk = [(p.id, k) for p in prods for k in p.kinds]
    pbands = [(p.id, m, band_rules.rank(b)) for p in prods for m, b in p.min_bands.items()]
    plists = [(p.id, c) for p in prods for c in p.lists_absent]
    subjects = sorted({r[1] for r in nrows})
    sbands: list[tuple[int, str, int]] = []
    slists: list[tuple[int, str]] = []
    if subjects:
        runs = latest_runs(session)
        wanted = {m for _, m, _ in pbands}
        table = band_table(session.connection())
        for model, (run_id, version) in runs.items():
            if model not in wanted:
                continue
            grade_band = table.get((model, version), {})
            q = select(Score.subject_id, Score.grade).where(Score.run_id == run_id)
            if need_ids is not None:
                q = q.where(Score.subject_id.in_(subjects))
            for sid, grade in session.execute(q):
                b = grade_band.get(grade)
                if b is not None:
                    sbands.append((sid, model, band_rules.rank(b)))
        lq = select(ListEntry.subject_id, ListEntry.list_code).where(listed_on(clock.today()))
        if need_ids is not None:
            lq = lq.where(ListEntry.subject_id.in_(subjects))
        slists = [(sid, code) for sid, code in session.execute(lq)]
    defaults: pa.Table | None = None
    if policy(session).in_default.exclude:
        in_default = sorted(in_default_among(session, subjects if need_ids is not None else None)) if subjects else []
        defaults = pa.table({"subject_id": pa.array(in_default, pa.int64())})
    return Facts(needs=needs, products=products,
                 product_kinds=pa.table({"product_id": pa.array([a for a, _ in pk], pa.int64()),
                                         "kind": pa.array([b for _, b in pk], pa.string())}),
                 product_bands=pa.table({"product_id": pa.array([a for a, _, _ in pbands], pa.int64()),
                                         "model": pa.array([b for _, b, _ in pbands], pa.string()),
                                         "floor_rank": pa.array([c for _, _, c in pbands], pa.int32())}),
                 product_lists=pa.table({"product_id": pa.array([a for a, _ in plists], pa.int64()),
                                         "list_code": pa.array([b for _, b in plists], pa.string())}),
                 subject_bands=pa.table({"subject_id": pa.array([a for a, _, _ in sbands], pa.int64()),
                                         "model": pa.array([b for _, b, _ in sbands], pa.string()),
                                         "band_rank": pa.array([c for _, _, c in sbands], pa.int32())}),
                 subject_lists=pa.table({"subject_id": pa.array([a for a, _ in slists], pa.int64()),
                                         "list_code": pa.array([b for _, b in slists], pa.string())}),
                 subject_defaults=defaults)


def in_default_among(session: Session, subject_ids: Sequence[int] | None) -> set[int]:
    """The subjects (of those named; None: of all) with a loan of this platform in default."""
    q = select(Loan.subject_id).where(Loan.status == "default").distinct()
    if subject_ids is not None:
        q = q.where(Loan.subject_id.in_(subject_ids))
    return set(session.execute(q).scalars())


def stamp(session: Session) -> str:
    """Changes whenever an input of the matching changes: a newly published run, a
    product decided or withdrawn, a need posted or withdrawn, a list entry moved, a
    loan gone into default or repaid after it, the policy's rule on defaults."""
    runs = sorted((m, r) for m, (r, _) in latest_runs(session).items())
    prods = session.execute(select(func.count(), func.max(LoanProduct.decided_at), func.sum(LoanProduct.id))
                            .where(LoanProduct.status == "approved")).one()
    needs = session.execute(select(func.count(), func.sum(FinancingNeed.id))
                            .where(FinancingNeed.status == "open")).one()
    lists = session.execute(select(func.count()).select_from(ListEntry).where(listed_on(clock.today()))).one()
    versions = session.execute(select(func.count()).select_from(ModelVersion)
                               .where(ModelVersion.status == "published")).one()
    defaults = session.execute(select(func.count(), func.sum(Loan.id)).where(Loan.status == "default")).one()
    text = repr((runs, tuple(prods), tuple(needs), tuple(lists), tuple(versions), tuple(defaults),
                 policy(session).in_default.exclude, clock.today().isoformat()))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_COLUMNS = ("need_id", "product_id", "eligible", "fails", "score", "band_ok", "band_model", "band_got", "band_gap",
            "lists_ok", "lists_hit", "amount_ok", "amount_gap", "term_ok", "term_gap", "collateral_ok")


def recompute(session: Session, *, need_ids: Sequence[int] | None = None,
              product_ids: Sequence[int] | None = None, actor: str = "system:finance") -> dict[str, Any]:
    """Replace the matches of the named needs or products (all when neither is named)."""
    t0 = time.perf_counter()
    facts = load_facts(session, need_ids=need_ids, product_ids=product_ids)
    table = compute(facts, keep=KEEP_PER_NEED if product_ids is None else None)
    d = delete(NeedMatch)
    if need_ids is not None:
        d = d.where(NeedMatch.need_id.in_(need_ids))
    if product_ids is not None:
        d = d.where(NeedMatch.product_id.in_(product_ids))
    session.execute(d)
    now = clock.now()
    rows = table.select(list(_COLUMNS)).to_pylist()
    for r in rows:
        r["computed_at"] = now
    for i in range(0, len(rows), 5000):
        session.execute(insert(NeedMatch), rows[i:i + 5000])
    seconds = round(time.perf_counter() - t0, 3)
    out = {"needs": facts.needs.num_rows, "products": facts.products.num_rows, "kept": len(rows),
           "eligible": sum(1 for r in rows if r["eligible"]), "seconds": seconds}
    if need_ids is None and product_ids is None:
        st = session.get(MatchState, 1)
        if st is None:
            st = MatchState(id=1, stamp="", computed_at=now)
            session.add(st)
        st.stamp, st.computed_at, st.pairs, st.seconds = stamp(session), now, len(rows), seconds
    session.flush()
    audit.append(session, action="finance.match", actor=actor,
                 detail={**out, "scope": "needs" if need_ids is not None else
                         "products" if product_ids is not None else "all"})
    return out


def refresh(session: Session, *, actor: str = "system:finance") -> dict[str, Any]:
    """Recompute everything when an input changed since the last full computation (the
    worker's job, and after a run is published): otherwise nothing."""
    st = session.get(MatchState, 1)
    now_stamp = stamp(session)
    if st is not None and st.stamp == now_stamp:
        return {"recomputed": False}
    return {"recomputed": True, **recompute(session, actor=actor)}
