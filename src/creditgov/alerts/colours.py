"""Red/yellow/green codes (红黄绿三色码), regenerated from the latest published runs.

A subject's colour comes from the first model in the configured precedence whose
latest published run scored it (`data/colour_codes.yaml`). Regeneration compares with
the current codes and writes history only where the colour changed (or was first
set), so running it twice in a row changes nothing and the history reads as a list
of real changes with the run behind each.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session

from creditgov.alerts.models import ColourCode, ColourCodeChange, ColourGeneration
from creditgov.alerts.schemas import ColourSettings
from creditgov.core import clock
from creditgov.core.config import PolicyFile
from creditgov.core.db import bulk_insert
from creditgov.core.errors import NotFound
from creditgov.scoring import published
from creditgov.scoring.models import EvaluationRun, Score
from creditgov.security import service as audit

COLOUR_CODES = PolicyFile(ColourSettings, "creditgov.alerts", "data/colour_codes.yaml")


def settings(path: Path | None = None) -> ColourSettings:
    return COLOUR_CODES.load(path)


def latest_runs(session: Session, models: list[str], on: dt.date) -> dict[str, int]:
    q = published.latest_runs(models, EvaluationRun.model_name, EvaluationRun.id, as_of=on)
    found = {m: int(rid) for m, rid in session.execute(q)}
    return {m: found[m] for m in models if m in found}  # in the models' order


def regenerate(session: Session, *, on: dt.date | None = None, path: Path | None = None,
               actor: str | None = None) -> dict[str, Any]:
    """Recompute every subject's code; returns what changed."""
    on = on or clock.today()
    cfg = settings(path)
    runs = latest_runs(session, cfg.precedence, on)
    chosen: dict[int, tuple[str, str, Decimal, str, int]] = {}
    for model in cfg.precedence:
        rid = runs.get(model)
        if rid is None:
            continue
        q = select(Score.subject_id, Score.colour, Score.grade, Score.score).where(Score.run_id == rid)
        for sid, colour, grade, score in session.execute(q):
            if sid not in chosen:
                chosen[sid] = (colour, grade, score, model, rid)
    current = {sid: (colour, run_id) for sid, colour, run_id in
               session.execute(select(ColourCode.subject_id, ColourCode.colour, ColourCode.run_id))}
    gen = ColourGeneration(on=on, runs=runs, subjects=len(chosen), changed=0, by_colour={}, at=clock.now())
    session.add(gen)
    session.flush()
    new_rows: list[tuple[Any, ...]] = []
    history: list[tuple[Any, ...]] = []
    changed_rows: list[dict[str, Any]] = []
    refreshed: list[dict[str, Any]] = []
    by_colour: dict[str, int] = {}
    for sid, (colour, grade, score, model, rid) in chosen.items():
        by_colour[colour] = by_colour.get(colour, 0) + 1
        cur = current.get(sid)
        if cur is None:
            new_rows.append((sid, colour, grade, score, model, rid, on, on))
            history.append((sid, colour, None, grade, model, rid, on, gen.id))
        elif cur[0] != colour:
            changed_rows.append({"subject_id": sid, "colour": colour, "grade": grade, "score": score, "model": model,
                                 "run_id": rid, "since": on, "updated_on": on})
            history.append((sid, colour, cur[0], grade, model, rid, on, gen.id))
        elif cur[1] != rid:
            refreshed.append({"subject_id": sid, "grade": grade, "score": score, "model": model, "run_id": rid,
                              "updated_on": on})
    bulk_insert(session, cast(Table, ColourCode.__table__), ["subject_id", "colour", "grade", "score", "model", "run_id", "since",
                                                "updated_on"], new_rows)
    if changed_rows:
        session.execute(update(ColourCode), changed_rows)
    if refreshed:
        session.execute(update(ColourCode), refreshed)
    bulk_insert(session, cast(Table, ColourCodeChange.__table__), ["subject_id", "colour", "previous", "grade", "model", "run_id",
                                                      "effective_on", "generation_id"], history)
    gen.changed, gen.by_colour = len(history), by_colour
    session.flush()
    audit.append(session, action="alerts.colours.regenerate", actor=actor or "system:colours",
                 detail={"generation": gen.id, "on": on, "runs": runs, "subjects": len(chosen),
                         "new": len(new_rows), "changed": len(changed_rows), "refreshed": len(refreshed)})
    return {"generation": gen.id, "on": on.isoformat(), "runs": runs, "subjects": len(chosen),
            "new": len(new_rows), "changed": len(changed_rows), "refreshed": len(refreshed), "by_colour": by_colour}


def colour_of(session: Session, subject_id: int) -> ColourCode:
    row = session.get(ColourCode, subject_id)
    if row is None:
        raise NotFound(f"subject {subject_id} has no colour code yet (no published evaluation covers it)")
    return row


def history(session: Session, subject_id: int) -> list[ColourCodeChange]:
    q = select(ColourCodeChange).where(ColourCodeChange.subject_id == subject_id).order_by(ColourCodeChange.id)
    return list(session.execute(q).scalars())


def code_dict(c: ColourCode) -> dict[str, Any]:
    return {"subject_id": c.subject_id, "colour": c.colour, "grade": c.grade,
            "score": str(c.score) if c.score is not None else None, "model": c.model, "run_id": c.run_id,
            "since": c.since.isoformat(), "updated_on": c.updated_on.isoformat()}
