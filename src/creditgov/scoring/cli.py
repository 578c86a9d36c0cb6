"""`creditgov model …`, `creditgov evaluate` and `creditgov explain` (thin: services do the work)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from types import TracebackType
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from creditgov.cli.common import (
    STATE,
    JsonOpt,
    console,
    emit_json,
    err_console,
    save,
    session,
    writable,
)
from creditgov.core import clock
from creditgov.core.errors import InvalidInput
from creditgov.scoring import engines, service
from creditgov.scoring.model import EvaluationModel, Indicator, json_schema
from creditgov.scoring.prepared import prepare

app = typer.Typer()  # top-level commands: evaluate, explain
model_app = typer.Typer(help="Evaluation models: list, show, validate, draft, publish, compare, backtest, schema.",
                        no_args_is_help=True)

AsOfOpt = typer.Option(None, "--as-of", help="Evaluate as of this date (YYYY-MM-DD; default: today).")
EngineOpt = typer.Option(None, "--engine", help=f"One of {', '.join(engines.ENGINES)} (default: {engines.DEFAULT_ENGINE}).")


def _date(s: str | None) -> dt.date | None:
    if s is None:
        return None
    try:
        return dt.date.fromisoformat(s)
    except ValueError:
        raise InvalidInput(f"not a date: {s!r} (use YYYY-MM-DD)") from None


class _Progress:
    """Stage messages on stderr (stdout stays clean for --json)."""

    def __init__(self) -> None:
        self.status = err_console.status("starting")

    def __enter__(self) -> _Progress:
        self.status.__enter__()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.status.__exit__(exc_type, exc, tb)

    def __call__(self, stage: str) -> None:
        self.status.update(stage)

    def prefixed(self, name: str) -> service.Progress:
        """Stage messages of one model among several, each prefixed with its name."""
        return lambda stage: self(f"{name}: {stage}")


# ----------------------------------------------------------------------------- evaluate / explain


@app.command()
def evaluate(
    model: str = typer.Option(..., "--model", "-m", help="NAME, NAME@VERSION, or `all` (every published model)."),
    as_of: str = AsOfOpt,
    engine: str = EngineOpt,
    publish: bool = typer.Option(False, "--publish", help="Publish the run: lists, checks and measures read it."),
    json_out: bool = JsonOpt,
) -> None:
    """Evaluate every subject in a model's scope and store the run."""
    STATE.require_init()
    if model == "all":
        with session() as s:
            names = sorted({v.name for v in service.versions(s) if v.status == "published"})
        results = []
        with _Progress() as progress:
            for name in names:
                results.append(service.evaluate(STATE.url, ref=name, as_of=_date(as_of), engine=engine,
                                                progress=progress.prefixed(name), publish=publish))
        if json_out:
            emit_json([r.as_dict() for r in results])
            return
        for r in results:
            console.print(f"run {r.run_id}: {r.model}@{r.version} {r.subjects:,} subjects in {r.seconds:.2f} s — "
                          + " ".join(f"{g}:{n:,}" for g, n in r.grades.items())
                          + (" (published)" if r.published else ""))
        return
    with _Progress() as progress:
        result = service.evaluate(STATE.url, ref=model, as_of=_date(as_of), engine=engine, progress=progress,
                                  publish=publish)
    out = result.as_dict()
    if json_out:
        emit_json(out)
        return
    console.print(f"run [bold]{result.run_id}[/bold]: {result.model}@{result.version} on {result.engine}, "
                  f"as of {result.as_of}, {result.subjects:,} subjects in {result.seconds:.2f} s"
                  + (" (published)" if result.published else ""))
    t = Table(title="grades")
    t.add_column("grade")
    t.add_column("subjects", justify="right")
    t.add_column("share", justify="right")
    for g, n in result.grades.items():
        t.add_row(g, f"{n:,}", f"{100 * n / max(result.subjects, 1):.1f}%")
    console.print(t)
    console.print("colours: " + ", ".join(f"{c} {n:,}" for c, n in result.colours.items()))
    console.print("timings: " + _timings(result.timings))


def _timings(timings: dict[str, float]) -> str:
    """A run's timings for reading: seconds as seconds; the counts kept beside them (rows,
    files, partitions: whole numbers) as counts."""
    return ", ".join(f"{k} {v:,}" if isinstance(v, int) and not isinstance(v, bool) else f"{k} {v:.2f} s"
                     for k, v in timings.items())


@app.command()
def explain(
    key: str = typer.Argument(..., help="Subject id, credit code, ID number or exact name."),
    model: str = typer.Option(..., "--model", "-m", help="NAME or NAME@VERSION."),
    as_of: str = AsOfOpt,
    purpose: str = typer.Option("explain", "--purpose", help="Why you read this (recorded for personal files)."),
    json_out: bool = JsonOpt,
) -> None:
    """Why a subject has its score: every item, the records behind it, overrides."""
    with session() as s:
        e = service.explain_subject(s, STATE.keyring(), key, ref=model, as_of=_date(as_of), purpose=purpose)
        out = e.as_dict()
    if json_out:
        emit_json(out)
        return
    console.print(f"subject {e.subject_id} · {e.model}@{e.version} · as of {e.as_of}")
    console.print(f"score [bold]{e.score}[/bold]  grade [bold]{e.grade}[/bold]  colour [{_style(e.colour)}]{e.colour}[/]"
                  + (f"  (score alone gives {e.grade_from_score})" if e.grade != e.grade_from_score else ""))
    if e.dimensions:
        console.print("first level: " + ", ".join(f"{k} {v}" for k, v in e.dimensions.items()))
    t = Table(title="items")
    for col in ("item", "name", "input", "points", "share", "records"):
        t.add_column(col, justify="right" if col in ("points", "share", "records") else "left")
    for it in (*e.items, *e.bonuses):
        inp = ", ".join(f"{k}={v}" for k, v in it.input.items() if k not in ("base", "entries"))
        share = it.share or ("bonus" if it in e.bonuses else "")
        t.add_row(it.code, it.name, ("[missing] " if it.missing else "") + inp, str(it.points), share,
                  str(len(it.records)))
    console.print(t)
    for it in (*e.items, *e.bonuses):
        for en in it.input.get("entries", ()):
            console.print(escape(f"{it.code}: {_entry_text(en)}"), highlight=False)
    for o in e.overrides:
        if o["triggered"]:
            console.print(f"[red]override[/red] {escape(o['code'])} ({escape(o['name'])}): grade capped at "
                          f"{escape(o['cap_grade'])}" + "".join(escape(f"; {_entry_text(en)}")
                                                               for en in o["evidence"] if "entry_id" in en))
    if e.excluded:
        console.print(f"{len(e.excluded)} record(s) not counted: "
                      + "; ".join(f"#{r['id']} {r['item']} ({r['reason']})" for r in e.excluded[:8]))


def _entry_text(en: dict[str, Any]) -> str:
    """A list entry behind a list item: which list, which entry, its decision and record."""
    rec = en.get("record")
    on = f"record #{en['record_id']}" if en.get("record_id") is not None else "no record"
    if rec:
        on += f" ({rec['item']}, {rec['occurred_on']})"
    return (f"list {en['list']} entry #{en['entry_id']}"
            + (f", decision {en['decision_no']}" if en.get("decision_no") else "")
            + (f", published {en['published_on']}" if en.get("published_on") else "") + f", {on}")


def _style(colour: str) -> str:
    return {"green": "green", "yellow": "yellow", "red": "red"}.get(colour, "white")


# ----------------------------------------------------------------------------- model …


@model_app.command("list")
def list_models(json_out: bool = JsonOpt) -> None:
    """Model versions in the store (shipped packs are registered on first use)."""
    with session() as s:
        rows = service.versions(s)
        out: list[dict[str, Any]]  # cells of mixed types, as emit_json prints them
        out = [{"name": r.name, "version": r.version, "status": r.status, "hash": r.content_hash[:12],
                "published_at": r.published_at, "actor": r.actor} for r in rows]
    if json_out:
        emit_json(out)
        return
    t = Table(title="evaluation models")
    for col in ("name", "version", "status", "hash", "published", "by"):
        t.add_column(col)
    for r in out:
        t.add_row(r["name"], r["version"], r["status"], r["hash"],
                  r["published_at"].isoformat(timespec="seconds") if r["published_at"] else "-", r["actor"] or "")
    console.print(t)


@model_app.command()
def show(ref: str = typer.Argument(..., help="NAME or NAME@VERSION."), json_out: bool = JsonOpt,
         yaml_out: bool = typer.Option(False, "--yaml", help="Print the stored YAML text.")) -> None:
    """A model's tree: weights or points, items, grades and overrides."""
    with session() as s:
        row, m = service.get(s, ref)
        text = row.text
        status = row.status
    if yaml_out:
        typer.echo(text)
        return
    if json_out:
        emit_json({"status": status, "hash": m.content_hash(), "levels": m.levels(), **m.model_dump(mode="json")})
        return
    _print_model(m, status)


def _item_summary(n: Indicator) -> str:
    it = n.item
    assert it is not None
    d = it.model_dump(mode="json", exclude_none=True, exclude={"kind", "description"})
    return f"[cyan]{it.kind}[/cyan] " + json.dumps(d, ensure_ascii=False, separators=(",", ":"))[:160]


def _print_model(m: EvaluationModel, status: str) -> None:
    levels = " / ".join(str(v) for _, v in sorted(m.levels().items()))
    root = Tree(f"[bold]{m.name}@{m.version}[/bold] ({status}) {m.title} — {m.aggregation.mode}, "
                f"levels {levels}, scope {', '.join(m.scope.kinds)}"
                + (f" in {', '.join(m.scope.industries)}" if m.scope.industries else "")
                + (f" with {m.scope.attributes}" if m.scope.attributes else ""))
    fr = m.weight_fractions()

    def add(node: Tree, n: Indicator) -> None:
        label = f"{n.code} {n.name}"
        if n.weight is not None:
            label += f" [dim]w={n.weight}[/dim]"
        if n.min is not None or n.max is not None:
            label += f" [dim][{n.min}, {n.max}][/dim]"
        if n.item is not None:
            share = f" [green]{float(fr[n.code]) * 100:.2f}%[/green]" if n.code in fr else ""
            node.add(f"{label}{share} {_item_summary(n)}")
        else:
            sub = node.add(label)
            for c in n.children or []:
                add(sub, c)

    for top in m.indicators:
        add(root, top)
    if m.bonuses:
        b = root.add("bonuses")
        for n in m.bonuses:
            add(b, n)
    console.print(root)
    console.print("grades: " + ", ".join(f"{g.label} ≥ {g.min} ({g.colour})" if g.min is not None
                                         else f"{g.label} ({g.colour})" for g in m.grades))
    for o in m.overrides:
        console.print(f"override {o.code}: {o.name} → at most {o.cap_grade}")


@model_app.command()
def validate(path: Path = typer.Argument(..., exists=True, dir_okay=False, help="A model YAML file."),
             json_out: bool = JsonOpt) -> None:
    """Validate a model file against the schema and the shipped catalogue (no store needed)."""
    text = path.read_text(encoding="utf-8")
    m = service.validate_text(text, str(path), service.shipped_catalog())
    p = prepare(m, service.shipped_catalog(), clock.today())
    out: dict[str, Any]  # cells of mixed types, as emit_json prints them
    out = {"name": m.name, "version": m.version, "valid": True, "levels": m.levels(), "items": len(p.leaves),
           "bonuses": len(p.bonuses), "overrides": len(p.overrides), "grades": [g.label for g in m.grades],
           "hash": m.content_hash(), "catalogue_items": sorted(p.used_items)}
    if json_out:
        emit_json(out)
        return
    console.print(f"[green]valid[/green] {m.name}@{m.version}: levels {out['levels']}, {out['items']} items, "
                  f"{out['overrides']} overrides, grades {'/'.join(out['grades'])}")


@model_app.command()
def draft(path: Path = typer.Argument(..., exists=True, dir_okay=False, help="A model YAML file."),
          json_out: bool = JsonOpt) -> None:
    """Store a model file as a draft version (see what it does with `model compare` before publishing)."""
    with session() as s:
        row = service.draft(s, text=path.read_text(encoding="utf-8"), source=str(path))
        out = {"name": row.name, "version": row.version, "status": row.status, "hash": row.content_hash}
    if json_out:
        emit_json(out)
        return
    console.print(f"draft {out['name']}@{out['version']} stored ({out['hash'][:12]})")


@model_app.command()
def publish(ref: str = typer.Argument(..., help="NAME@VERSION of a draft, or a YAML file to draft and publish."),
            json_out: bool = JsonOpt) -> None:
    """Publish a draft: from then on the version is immutable."""
    with session() as s:
        if ref.endswith((".yaml", ".yml")) and Path(ref).exists():
            row = service.draft(s, text=Path(ref).read_text(encoding="utf-8"), source=ref)
            ref = f"{row.name}@{row.version}"
        row = service.publish(s, ref=ref)
        out = {"name": row.name, "version": row.version, "status": row.status, "hash": row.content_hash}
    if json_out:
        emit_json(out)
        return
    console.print(f"[green]published[/green] {out['name']}@{out['version']} ({out['hash'][:12]})")


@model_app.command()
def schema(out: Path = typer.Option(None, "--out", help="Write to this file instead of stdout.")) -> None:
    """The JSON Schema of model files (for editors and reviews)."""
    writable(out)
    text = json.dumps(json_schema(), ensure_ascii=False, indent=2)
    if out:
        save(out, text + "\n")
        console.print(f"wrote {out}")
    else:
        typer.echo(text)


@model_app.command()
def runs(model: str = typer.Option(None, "--model", "-m"), limit: int = typer.Option(20, "--limit"),
         json_out: bool = JsonOpt) -> None:
    """Stored evaluation runs, newest first."""
    with session() as s:
        rows: list[dict[str, Any]]  # cells of mixed types, as emit_json prints them
        rows = [{"run_id": r.id, "model": f"{r.model_name}@{r.model_version}", "as_of": r.as_of.isoformat(),
                 "engine": r.engine, "status": r.status + (" published" if r.published else ""),
                 "subjects": r.subjects, "grades": r.grades,
                 "seconds": r.seconds, "watermark": r.watermark} for r in service.runs(s, model=model, limit=limit)]
    if json_out:
        emit_json(rows)
        return
    t = Table(title="evaluation runs")
    for col in ("run", "model", "as of", "engine", "status", "subjects", "grades", "seconds"):
        t.add_column(col)
    for r in rows:
        t.add_row(str(r["run_id"]), r["model"], r["as_of"], r["engine"], r["status"], f"{r['subjects']:,}",
                  " ".join(f"{k}:{v}" for k, v in (r["grades"] or {}).items()),
                  f"{r['seconds']:.2f}" if r["seconds"] is not None else "-")
    console.print(t)


@model_app.command("segments")
def segments_cmd(refresh: bool = typer.Option(False, "--refresh", help="Copy the records added since the last segment, "
                                              "write the score copies the latest published runs lack and remove "
                                              "those no analysis reads."),
                 rebuild: bool = typer.Option(False, "--rebuild", help="Write the whole copy anew."),
                 json_out: bool = JsonOpt) -> None:
    """The columnar copy of the credit records that evaluation reads, and where it is."""
    from creditgov.scoring import score_copies, segments

    STATE.require_init()
    done = segments.refresh(STATE.url, min_rows=1, rebuild=rebuild) if refresh or rebuild else None
    if done is not None:
        with session() as s:
            done["score_copies"] = score_copies.backfill(s, STATE.url)
            done["score_copies_removed"] = score_copies.prune(s, STATE.url)
    out = {**segments.status(STATE.url), **({"refresh": done} if done else {})}
    if json_out:
        emit_json(out)
        return
    if out.get("reason"):
        console.print(f"no record segments: {out['reason']}; evaluation reads the store")
        return
    if done:
        console.print(f"{done['action']}: {done['rows']:,} records in {done.get('seconds', 0):.2f} s")
        if done["score_copies"]:
            console.print(f"score copies written for run(s) {', '.join(map(str, done['score_copies']))}")
        if done["score_copies_removed"]:
            console.print(f"score copies removed (no analysis reads them) for run(s) "
                          f"{', '.join(map(str, done['score_copies_removed']))}")
    console.print(f"{out['segments']} segment(s), {out['rows']:,} records, {out['bytes'] / 2**20:.1f} MB in "
                  f"{out['folder']}; {out['tail']:,} newer records and {out['overlay']:,} changed records "
                  "are read from the store")


@model_app.command("publish-run")
def publish_run(run_id: int = typer.Argument(..., help="A finished run of a published model version."),
                json_out: bool = JsonOpt) -> None:
    """Publish an evaluation run: lists, the credit check and measures read the latest published run."""
    with session() as s:
        run = service.publish_run(s, run_id=run_id)
        out = {"run_id": run.id, "model": f"{run.model_name}@{run.model_version}", "as_of": run.as_of.isoformat(),
               "published": run.published}
    if json_out:
        emit_json(out)
        return
    console.print(f"[green]published[/green] run {out['run_id']} ({out['model']}, as of {out['as_of']})")


@model_app.command()
def compare(a: str = typer.Argument(..., help="NAME@VERSION (or NAME: latest published)."),
            b: str = typer.Argument(..., help="NAME@VERSION to compare with A."),
            as_of: str = AsOfOpt, engine: str = EngineOpt,
            top: int = typer.Option(10, "--top", help="How many biggest movers to show."),
            json_out: bool = JsonOpt) -> None:
    """Run two versions on the current data: grade migration, score changes, biggest movers."""
    STATE.require_init()
    with _Progress() as progress:
        out = service.compare(STATE.url, ref_a=a, ref_b=b, as_of=_date(as_of), engine=engine, top=top,
                              progress=progress)
    if json_out:
        emit_json(out)
        return
    console.print(f"{a} (run {out['a']['run_id']}) → {b} (run {out['b']['run_id']}): "
                  f"{out['subjects_compared']:,} subjects, {out['grade_changed']:,} change grade")
    mig = out["migration"]
    labels_b = list(next(iter(mig.values())).keys()) if mig else []
    t = Table(title="grade migration (rows: A, columns: B)")
    t.add_column("A \\ B")
    for lb in labels_b:
        t.add_column(lb, justify="right")
    for la, row in mig.items():
        t.add_row(la, *(f"{row[lb]:,}" for lb in labels_b))
    console.print(t)
    d = out["score_change"]
    if d.get("subjects"):
        console.print(f"score change: min {d['min']}, p10 {d['p10']}, median {d['median']}, p90 {d['p90']}, "
                      f"max {d['max']}, mean {d['mean']}; up {d['up']:,}, down {d['down']:,}, same {d['same']:,}")
        console.print("histogram: " + ", ".join(f"{k}: {v:,}" for k, v in d["histogram"].items()))
    t = Table(title="biggest movers")
    for col in ("subject", "A", "B", "change", "items that moved"):
        t.add_column(col)
    for mv in out["movers"]:
        t.add_row(str(mv["subject_id"]), f"{mv['score_a']} {mv['grade_a']}", f"{mv['score_b']} {mv['grade_b']}",
                  mv["delta"], "; ".join(f"{i['item']} {i['a']}→{i['b']}" for i in mv["items"][:5]))
    console.print(t)


@model_app.command()
def backtest(ref: str = typer.Argument(..., help="NAME or NAME@VERSION."),
             as_of: str = typer.Option(..., "--as-of", help="Score as of this past date."),
             months: int = typer.Option(12, "--months", help="Outcome window after the as-of date."),
             severity: str = typer.Option("serious", "--severity",
                                          help="Outcome: a negative record of these severities (comma-separated)."),
             items: str = typer.Option("", "--items", help="Outcome: records of these catalogue items instead."),
             outcomes: str = typer.Option(None, "--outcomes",
                                          help="Outcome: a registered source instead (loans: loan defaults)."),
             psi_run: int = typer.Option(None, "--psi-run", help="Run to compare the grade mix with (PSI); "
                                                                "default: a run at the end of the window."),
             engine: str = EngineOpt, json_out: bool = JsonOpt) -> None:
    """AUC, KS, outcome rate per grade and PSI, as scorecard users expect."""
    STATE.require_init()
    d = _date(as_of)
    assert d is not None
    with _Progress() as progress:
        out = service.backtest(STATE.url, ref=ref, as_of=d, months=months,
                               severity=[x for x in severity.split(",") if x], items=[x for x in items.split(",") if x],
                               engine=engine, psi_run=psi_run, progress=progress, outcome_source=outcomes)
    if json_out:
        emit_json(out)
        return
    console.print(f"{out['model']} as of {out['as_of']} (run {out['run_id']}): {out['subjects']:,} subjects, "
                  f"{out['outcomes']:,} with an outcome by {out['outcome']['window_end']}")
    console.print(f"AUC {out['auc']}  KS {out['ks']}  PSI {out['psi']['value']} (against run {out['psi']['against_run']})")
    t = Table(title="outcome rate per grade (should fall from worst to best)")
    for col in ("grade", "subjects", "outcomes", "rate"):
        t.add_column(col, justify="right")
    for r in out["by_grade"]:
        t.add_row(r["grade"], f"{r['subjects']:,}", f"{r['outcomes']:,}",
                  "-" if r["rate"] is None else f"{100 * r['rate']:.2f}%")
    console.print(t)
    console.print("monotonic: " + ("[green]yes[/green]" if out["monotonic"] else "[yellow]no[/yellow]"))
