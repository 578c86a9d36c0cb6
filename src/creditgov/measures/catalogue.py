"""Loading the joint measures catalogue and the check scenarios, and the cached copy
the credit check reads.

Loading validates more than the shape: every list and scenario a measure names must
exist, every grade a measure names must be a grade of its model, every model a
scenario names must exist and grade the subject kind it is named for, a measure that
reads bands must only meet models that map their grades to bands, and every subject
kind must be covered by every scenario (a model, `ungraded` or `not_checked`, each
with its reason). Errors name the file and the line, so a typo cannot silently
disable a measure or leave a group of subjects without one.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from creditgov.catalog import departments
from creditgov.core.config import (  # the one locator of YAML fields, shared on purpose
    PolicyFile,
    _line_of,
)
from creditgov.core.errors import ConfigError, NotFound
from creditgov.lists.models import CreditList
from creditgov.measures.models import Measure, Scenario
from creditgov.measures.schemas import (
    Condition,
    MeasureDef,
    MeasuresFile,
    RelatedParties,
    ScenarioDef,
    ScenariosFile,
)
from creditgov.scoring import published as published_models
from creditgov.scoring.model import EvaluationModel
from creditgov.security import service as audit
from creditgov.security.models import AuditEntry
from creditgov.subjects.schemas import kinds as subject_kinds

MEASURES = PolicyFile(MeasuresFile, "creditgov.measures", "data/measures.yaml")
SCENARIOS = PolicyFile(ScenariosFile, "creditgov.measures", "data/scenarios.yaml")


def shipped_text(name: str) -> str:
    """The text of a shipped data file (`measures.yaml`, `scenarios.yaml`)."""
    files: dict[str, PolicyFile[Any]] = {"measures.yaml": MEASURES, "scenarios.yaml": SCENARIOS}
    return files[name].text()


def read_measures(path: Path | None = None) -> MeasuresFile:
    return MEASURES.load(path)


def read_scenarios(path: Path | None = None) -> ScenariosFile:
    return SCENARIOS.load(path)


class _Where:
    """Turns a location in a YAML file into `file:line: field: message`."""

    def __init__(self, text: str, source: str) -> None:
        self.text, self.source = text, source
        self._node: yaml.Node | None = None

    def error(self, loc: tuple[Any, ...], msg: str) -> ConfigError:
        if self._node is None:
            self._node = yaml.compose(self.text)
        field = ".".join(str(p) for p in loc)
        return ConfigError(f"{self.source}:{_line_of(self._node, loc)}: {field}: {msg}")


def _check_scenarios(sc: ScenariosFile, where: _Where, models: dict[str, EvaluationModel],
                     kinds: set[str]) -> dict[str, ScenarioDef]:
    """Every kind covered, every named model known and grading the kind it is named for."""
    def check_models(loc: tuple[Any, ...], kind: str, names: list[str]) -> None:
        for j, name in enumerate(names):
            m = models.get(name)
            if m is None:
                raise where.error((*loc, kind, j), f"unknown model {name!r} (published: {sorted(models)})")
            if kind not in m.scope.kinds:
                raise where.error((*loc, kind, j), f"model {name} does not grade a {kind} "
                                                  f"(its scope: {m.scope.kinds})")

    for kind, names in sc.default_models.items():
        check_models(("default_models",), kind, names)
    out = {}
    for n, s in enumerate(sc.scenarios):
        for kind, names in s.models.items():
            check_models(("scenarios", n, "models"), kind, names)
        r = sc.resolved(s)
        covered = set(r.models) | set(r.ungraded) | set(r.not_checked)
        missing = sorted(kinds - covered)
        if missing:
            raise where.error(("scenarios", n), f"scenario {s.code} says nothing of kind(s) {missing}: name "
                                                "their models, or say why they are `ungraded` or `not_checked`")
        out[s.code] = r
    return out


def _check_condition(c: Condition, loc: tuple[Any, ...], where: _Where, m: MeasureDef,
                     scenarios: dict[str, ScenarioDef], models: dict[str, EvaluationModel]) -> None:
    if c.model is not None:
        model = models.get(c.model)
        if model is None:
            raise where.error((*loc, "model"), f"unknown model {c.model!r} (published: {sorted(models)})")
        labels = [g.label for g in model.grades]
        for k, g in enumerate(c.grades):
            if g not in labels:
                raise where.error((*loc, "grades", k), f"{g!r} is not a grade of {c.model} (its grades: {labels})")
        if c.band and not model.bands():
            raise where.error((*loc, "band"), f"model {c.model} maps no grade to a band")
        return
    if c.band:
        # the scenario's models for each kind are read: each must map its grades to bands
        for code in m.scenarios:
            for kind, names in scenarios[code].models.items():
                for name in names:
                    if not models[name].bands():
                        raise where.error((*loc, "band"), f"scenario {code} reads {name} for a {kind}, "
                                                          "which maps no grade to a band")


def _check_measures(ms: MeasuresFile, where: _Where, scenarios: dict[str, ScenarioDef],
                    models: dict[str, EvaluationModel], known_lists: set[str]) -> None:
    for n, m in enumerate(ms.measures):
        for k, code in enumerate(m.scenarios):
            if code not in scenarios:
                raise where.error(("measures", n, "scenarios", k), f"unknown scenario {code!r}")
        for part in ("when", "unless"):
            for k, cond in enumerate(getattr(m, part)):
                for j, lc in enumerate(cond.lists):
                    if lc not in known_lists:
                        raise where.error(("measures", n, part, k, "lists", j),
                                          f"unknown list {lc!r} (load list definitions first)")
                _check_condition(cond, ("measures", n, part, k), where, m, scenarios, models)
        for j, lc in enumerate(m.unless_lists):
            if lc not in known_lists:
                raise where.error(("measures", n, "unless_lists", j), f"unknown list {lc!r}")


def _check_related(sc: ScenariosFile, where: _Where, known_lists: set[str]) -> None:
    """The lists a related-party warning names must exist."""
    places: list[tuple[tuple[Any, ...], RelatedParties]] = [(("related_parties",), sc.related_parties)]
    places += [(("scenarios", n, "related_parties"), s.related_parties) for n, s in enumerate(sc.scenarios)
               if s.related_parties is not None]
    for loc, rp in places:
        for j, lc in enumerate(rp.lists):
            if lc not in known_lists:
                raise where.error((*loc, "lists", j), f"unknown list {lc!r} (load list definitions first)")


def _check_departments(session: Session, sc: ScenariosFile, sc_where: _Where, ms: MeasuresFile,
                       ms_where: _Where) -> None:
    """Every department a scenario or a measure names is one of the catalogue's, so
    every page and notice can say it in words (catalog.yaml `departments`)."""
    named = [("scenarios", n, s.department, sc_where) for n, s in enumerate(sc.scenarios)]
    named += [("measures", n, m.department, ms_where) for n, m in enumerate(ms.measures)]
    for part, n, code, where in named:
        if not departments.is_department(session, code):
            raise where.error((part, n, "department"), departments.unknown(code))


def load_measures(session: Session, *, path: Path | None = None, scenarios_path: Path | None = None,
                  actor: str | None = None) -> dict[str, Any]:
    """Upsert scenarios and measures (the shipped defaults when no paths), validated
    against the lists, the published models and the subject kinds."""
    from creditgov.scoring import (
        service as scoring_service,  # registers shipped packs; heavy, so here
    )

    sc_text = scenarios_path.read_text("utf-8") if scenarios_path else SCENARIOS.text()
    ms_text = path.read_text("utf-8") if path else MEASURES.text()
    sc_src = str(scenarios_path) if scenarios_path else "scenarios.yaml (shipped)"
    ms_src = str(path) if path else "measures.yaml (shipped)"
    sc = SCENARIOS.parse(sc_text, sc_src)
    ms = MEASURES.parse(ms_text, ms_src)
    scoring_service.ensure_shipped(session, actor=actor)
    models = published_models.latest(session.connection())
    kinds = set(subject_kinds())
    resolved = _check_scenarios(sc, _Where(sc_text, sc_src), models, kinds)
    known_lists = {c for (c,) in session.execute(select(CreditList.code))}
    _check_measures(ms, _Where(ms_text, ms_src), resolved, models, known_lists)
    _check_related(sc, _Where(sc_text, sc_src), known_lists)
    _check_departments(session, sc, _Where(sc_text, sc_src), ms, _Where(ms_text, ms_src))
    # Each scenario is stored with its models resolved (defaults, then its own), so a
    # check needs one row to know whose grade to read.
    for s in resolved.values():
        session.merge(Scenario(code=s.code, name_zh=s.name_zh, name_en=s.name_en, department=s.department,
                               version=sc.version, definition=s.model_dump_json()))
    for m in ms.measures:
        session.merge(Measure(code=m.code, name_zh=m.name_zh, name_en=m.name_en, measure_kind=m.kind,
                              department=m.department, legal_basis=m.legal_basis, scenarios=list(m.scenarios),
                              active=m.active, version=ms.version, definition=m.model_dump_json()))
    session.flush()
    untranslated = ms.untranslated()  # still loads: its English pages show these in Chinese
    audit.append(session, action="measures.load", actor=actor,
                 detail={"version": ms.version, "measures": len(ms.measures), "scenarios": len(sc.scenarios),
                         "default_models": sc.default_models, "untranslated": len(untranslated)})
    return {"version": ms.version, "measures": len(ms.measures), "scenarios": len(sc.scenarios),
            "untranslated": untranslated}


# ----------------------------------------------------------------------------- reading


@lru_cache(maxsize=1024)
def measure_of(text: str) -> MeasureDef:
    return MeasureDef.model_validate_json(text)


@lru_cache(maxsize=1024)
def scenario_of(text: str) -> ScenarioDef:
    return ScenarioDef.model_validate_json(text)


def measures(session: Session, *, scenario: str | None = None, include_inactive: bool = False) -> list[MeasureDef]:
    q = select(Measure.definition).order_by(Measure.code)
    if not include_inactive:
        q = q.where(Measure.active.is_(True))
    out = [measure_of(t) for (t,) in session.execute(q)]
    return [m for m in out if scenario is None or scenario in m.scenarios]


def measure(session: Session, code: str) -> MeasureDef:
    row = session.get(Measure, code)
    if row is None:
        raise NotFound(f"measure {code!r} not found")
    return measure_of(row.definition)


def scenarios(session: Session) -> list[ScenarioDef]:
    q = select(Scenario.definition).order_by(Scenario.code)
    return [scenario_of(t) for (t,) in session.execute(q)]


# Every load of the catalogue appends a `measures.load` audit entry, so the id of the
# last one is a version stamp; the newest model version is the other half (a newly
# published version may map its grades to other bands). Two indexed queries tell
# whether the catalogue cached in this process is still the one in the store.
_Q_STAMP = select(func.max(AuditEntry.id)).where(AuditEntry.action == "measures.load")
_Q_MEASURES = select(Measure.definition).where(Measure.active.is_(True)).order_by(Measure.code)


@dataclass(frozen=True)
class Catalogue:
    scenarios: dict[str, ScenarioDef]
    by_scenario: dict[str, list[MeasureDef]]
    bands: dict[tuple[str, str], dict[str, str]]  # (model, version) -> grade -> band


_CATALOGUES: dict[tuple[Any, ...], Catalogue] = {}


def catalogue(conn: Connection) -> Catalogue:
    """The active measures by scenario, the scenarios and the models' bands, cached per
    loaded version."""
    key = (str(conn.engine.url), conn.execute(_Q_STAMP).scalar(), *conn.execute(published_models.Q_STAMP).one())
    cat = _CATALOGUES.get(key)
    if cat is None:
        by: dict[str, list[MeasureDef]] = {}
        for (t,) in conn.execute(_Q_MEASURES):
            m = measure_of(t)
            for sc in m.scenarios:
                by.setdefault(sc, []).append(m)
        scs = {d.code: d for d in (scenario_of(t) for (t,) in conn.execute(select(Scenario.definition)))}
        cat = Catalogue(scenarios=scs, by_scenario=by, bands=published_models.band_table(conn))
        if len(_CATALOGUES) > 16:
            _CATALOGUES.clear()
        _CATALOGUES[key] = cat
    return cat
