"""`creditgov measures ...` (the joint measures catalogue) and `creditgov check ...`
(the credit check, departments' feedback, statistics)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import typer
from rich.panel import Panel
from rich.table import Table

from creditgov.cli.common import STATE, DefaultGroup, JsonOpt, console, emit_json, session
from creditgov.measures import service

app = typer.Typer(help="Joint reward and punishment measures (联合奖惩措施) and check scenarios.",
                  no_args_is_help=True)
check_app = typer.Typer(cls=DefaultGroup, no_args_is_help=True,
                        help="Credit checks (信用核查): `creditgov check KEY --scenario CODE`, feedback, stats.")

_COLOUR = {"green": "green", "yellow": "yellow", "red": "red"}
_KIND = {"incentive": "green", "punishment": "red", "supervision": "yellow"}


@app.command("list")
def list_(scenario: str = typer.Option(None, "--scenario", help="Only measures of this scenario."),
          json_out: bool = JsonOpt) -> None:
    """The measures catalogue."""
    with session() as s:
        rows = [m.model_dump() for m in service.measures(s, scenario=scenario, include_inactive=True)]
    if json_out:
        emit_json(rows)
        return
    t = Table(title=f"measures ({len(rows)})")
    for c in ("code", "name", "kind", "department", "scenarios", "when", "unless"):
        t.add_column(c)
    for m in rows:
        when = " | ".join(_describe(c) for c in m["when"])
        unless = ", ".join(m["unless_lists"] + [_describe(c) for c in m["unless"]])
        t.add_row(m["code"], m["name_zh"], f"[{_KIND[m['kind']]}]{m['kind']}[/]", m["department_name"],
                  ", ".join(m["scenarios"]), when, unless)
    console.print(t)


def _describe(cond: dict[str, Any]) -> str:
    from creditgov.measures.schemas import Condition

    return Condition.model_validate(cond).describe()


@app.command("show")
def show(code: str = typer.Argument(...), json_out: bool = JsonOpt) -> None:
    """One measure with its legal basis and trigger."""
    with session() as s:
        m = service.measure(s, code).model_dump()
    if json_out:
        emit_json(m)
        return
    console.print(Panel(
        f"[b]{m['name_zh']}[/b] ({m['name_en']}) — {m['kind']}\nimplemented by {m['department_name']} "
        f"({m['department']})\nscenarios: {', '.join(m['scenarios'])}\nlegal basis: {m['legal_basis'].strip()}\n"
        f"applies when: {' | '.join(_describe(c) for c in m['when'])}\n"
        f"not when on: {', '.join(m['unless_lists']) or '—'}"
        + (f"; nor when {' | '.join(_describe(c) for c in m['unless'])}" if m["unless"] else "")
        + f"\naction: {m['action']}", title=m["code"]))


@app.command("scenarios")
def scenarios(json_out: bool = JsonOpt) -> None:
    """Where checks happen, who checks, and whose grade each subject kind shows."""
    with session() as s:
        rows = [sc.model_dump() for sc in service.scenarios(s)]
        by = {sc["code"]: [m.code for m in service.measures(s, scenario=sc["code"])] for sc in rows}
    if json_out:
        emit_json([{**r, "measures": by[r["code"]]} for r in rows])
        return
    t = Table(title="check scenarios — per kind, the models read (the first that graded the subject)")
    for c in ("code", "name", "department", "kinds", "measures"):
        t.add_column(c)
    for r in rows:
        kinds = [f"{k}: {' → '.join(m)}" for k, m in r["models"].items()]
        kinds += [f"{k}: lists only" for k in r["ungraded"]] + [f"{k}: not checked" for k in r["not_checked"]]
        t.add_row(r["code"], r["name_zh"], r["department"], "\n".join(kinds), ", ".join(by[r["code"]]))
    console.print(t)


@app.command("load")
def load(measures: Path = typer.Option(None, "--measures", help="A measures YAML (default: shipped)."),
         scenarios_file: Path = typer.Option(None, "--scenarios", help="A scenarios YAML (default: shipped)."),
         json_out: bool = JsonOpt) -> None:
    """Load or update the measures catalogue and scenarios."""
    with session() as s:
        out = service.load_measures(s, path=measures, scenarios_path=scenarios_file)
    if json_out:
        emit_json(out)
        return
    console.print(f"loaded {out['measures']} measures and {out['scenarios']} scenarios (version {out['version']})"
                  + (f"; in Chinese only, also on English pages: {', '.join(out['untranslated'])}"
                     if out["untranslated"] else ""))


# ----------------------------------------------------------------------------- check


@check_app.command("run")
def run(key: str = typer.Argument(..., help="Subject: id, credit code or ID number."),
        scenario: str = typer.Option(..., "--scenario", help="Where the check happens (see `measures scenarios`)."),
        model: str = typer.Option(None, "--model", help="Whose grade to show (default: the scenario's)."),
        department: str = typer.Option(None, "--department", help="The checking department (default: the scenario's)."),
        purpose: str = typer.Option(None, "--purpose", help="Why (audited)."),
        actor: str = typer.Option(None, "--actor"),
        code: str = typer.Option(None, "--code", help="A credit code the subject presents (another region's)."),
        json_out: bool = JsonOpt) -> None:
    """Check a subject in a scenario: grade, colour, lists, measures, warnings, check id."""
    ring = STATE.keyring()
    with session() as s:
        out = service.check(s, key=key, keyring=ring, scenario=scenario, model=model, department=department,
                            purpose=purpose, actor=actor, evidence=code).as_dict()
    if json_out:
        emit_json(out)
        return
    subj = out["subject"]
    grade = out["grade"] or "—"
    colour = out["colour"]
    shown = f"[{_COLOUR[colour]}]{grade} ({colour}, band {out['band'] or '—'})[/]" if colour in _COLOUR else grade
    lists = ", ".join(f"{x['list']} (since {x['published_on']})" for x in out["lists"]) or "none"
    console.print(Panel(
        f"[b]{subj['name']}[/b] {subj['uscc'] or ''} (id {subj['id']}, {subj['kind']})\n"
        f"grade {shown} in {out['model'] or '—'} (run {out['run_id'] or '—'})\nlists: {lists}\n"
        f"warnings: {len(out['warnings'])}"
        + "".join(f"\nrelated party: {w['text_en']}" for w in out["related"])
        + (f"\ncredit code: {out['evidence']['status']}, "
           f"{'accepted, band ' + str(out['evidence']['band']) if out['evidence']['accepted'] else out['evidence'].get('why', '')}"
           if out.get("evidence") else "")
        + (f"\nupper-platform evaluation: {up['issuer']} {up['as_of']} grade {up['grade']}, "
           f"{'accepted, band ' + str(up['band']) if up['accepted'] else up.get('why', '')}"
           if (up := out.get("upper_evaluation")) else ""),
        title=f"credit check {out['check_id']} — {out['scenario']['name_zh']} / {out['department']}"))
    if out["measures"]:
        t = Table(title="measures that apply")
        for c in ("code", "measure", "kind", "department", "because", "legal basis"):
            t.add_column(c)
        for m in out["measures"]:
            t.add_row(m["code"], m["name_zh"], f"[{_KIND[m['kind']]}]{m['kind']}[/]", m["department_name"],
                      m["because"], m["legal_basis"])
        console.print(t)
    else:
        console.print("no measure applies in this scenario")
    for m in out["available_with_commitment"]:
        console.print(f"available on a signed commitment ({m['needs_commitment']}): {m['code']} {m['name_zh']}")


@check_app.command("show")
def show_check(check_id: str = typer.Argument(...), json_out: bool = JsonOpt) -> None:
    """A stored check and the feedback on it."""
    with session() as s:
        c = service.get_check(s, check_id)
        out = {"check_id": c.check_id, "subject_id": c.subject_id, "scenario": c.scenario,
               "department": c.department, "model": c.model_name, "run_id": c.run_id, "grade": c.grade,
               "colour": c.colour, "lists": c.lists, "measures": c.measures, "actor": c.actor,
               "checked_at": c.checked_at.isoformat(timespec="seconds"),
               "feedback": [{"measure": f.measure_code, "applied": f.applied, "reason": f.reason,
                             "actor": f.actor, "at": f.at.isoformat(timespec="seconds")}
                            for f in service.feedback_of(s, check_id)]}
    if json_out:
        emit_json(out)
        return
    console.print(out)


@check_app.command("feedback")
def feedback(check_id: str = typer.Argument(...), measure: str = typer.Option(..., "--measure"),
             applied: bool = typer.Option(..., "--applied/--not-applied", help="Was the measure applied?"),
             reason: str = typer.Option(None, "--reason", help="Why (required when not applied)."),
             department: str = typer.Option(None, "--department"), actor: str = typer.Option(None, "--actor"),
             json_out: bool = JsonOpt) -> None:
    """Report what the department did with a measure the check returned."""
    with session() as s:
        fb = service.report_feedback(s, check_id=check_id, measure_code=measure, applied=applied, reason=reason,
                                     department=department, actor=actor)
        out = {"check_id": fb.check_id, "measure": fb.measure_code, "applied": fb.applied, "reason": fb.reason,
               "department": fb.department}
    if json_out:
        emit_json(out)
        return
    console.print(f"feedback recorded: {measure} {'applied' if applied else 'not applied'}")


@check_app.command("stats")
def stats(since: str = typer.Option(None, "--since", help="From this date (YYYY-MM-DD)."),
          until: str = typer.Option(None, "--until", help="Up to this date."), json_out: bool = JsonOpt) -> None:
    """Checks and applied measures by department and scenario."""
    with session() as s:
        out = service.stats(s, since=dt.date.fromisoformat(since) if since else None,
                            until=dt.date.fromisoformat(until) if until else None)
    if json_out:
        emit_json(out)
        return
    t = Table(title="credit checks by department and scenario")
    cols = ("department", "scenario", "checks", "measures_returned", "reported", "applied", "not_applied",
            "awaiting_feedback")
    for c in cols:
        t.add_column(c.replace("_", " "), justify="left" if c in ("department", "scenario") else "right")
    for r in out["rows"]:
        t.add_row(*(str(r[c]) for c in cols))
    tot = out["totals"]
    t.add_row("[b]total[/b]", "", *(str(tot[c]) for c in cols[2:]))
    console.print(t)
