"""`creditgov supervise ...`: policies, inspectors, random draws (双随机一公开), tasks,
results, patrol lists. Thin: every command calls a service."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any, get_args

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from creditgov.cli.common import (
    STATE,
    JsonOpt,
    OutOpt,
    check_out,
    console,
    emit_json,
    known,
    label,
    lang,
    save,
    session,
    writable,
    write_out,
)
from creditgov.core.errors import IntegrityError, InvalidInput
from creditgov.supervision import access, campaign_files, campaigns, service
from creditgov.supervision import draw as drawing
from creditgov.supervision import draws as supervision_draws
from creditgov.supervision import patrols as supervision_patrols
from creditgov.supervision import tasks as supervision_tasks
from creditgov.supervision.schemas import TaskStatus

app = typer.Typer(help="Graded supervision (分级分类监管): random draws, inspection tasks, patrols.",
                  no_args_is_help=True)
ActorOpt = typer.Option(None, "--actor", help="Who acts (default: $CREDITGOV_ACTOR or cli:<user>).")


def parse_scope(values: list[str] | None) -> dict[str, Any]:
    """`--scope region=330127-S01 --scope industry=童装,retail --scope kind=enterprise`."""
    out: dict[str, Any] = {}
    for v in values or []:
        for sep in ("=", ":"):
            if sep in v:
                k, _, val = v.partition(sep)
                break
        else:
            raise InvalidInput(f"scope {v!r}: write KEY=VALUE (region, industry, kind)")
        k = k.strip()
        if k == "region":
            out[k] = val.strip()
        else:
            out.setdefault(k, []).extend(x.strip() for x in val.split(",") if x.strip())
    return out


def _show_draw(out: dict[str, Any]) -> None:
    console.print(f"[bold]draw {out['draw_id'] or '(dry run)'}[/bold] policy {out['policy']} · seed {out['seed']} · "
                  f"as of {out['as_of']} · scope {out['scope'] or 'all'} · runs {out['runs']}")
    t = Table(title="bands")
    for c in ("band", "candidates", "ratio", "drawn"):
        t.add_column(c)
    for band, b in out["counts"]["bands"].items():
        t.add_row(escape(label("supervision_band", band)), str(b["candidates"]), b["ratio"], str(b["drawn"]))
    console.print(t)
    ex = out["counts"]["excluded"]
    console.print(f"excluded: {ex}; inspector pool {out['counts']['pool']}; understaffed "
                  f"{out['counts']['understaffed']}")
    t = Table(title=f"drawn ({len(out['items'])})")
    for c in ("subject", "key", "name", "band", "inspectors"):
        t.add_column(c)
    for i in out["items"][:200]:
        t.add_row(str(i["subject_id"]), i["key"], escape(i["name"]), escape(label("supervision_band", i["band"])),
                  ", ".join(i["inspectors"]))
    console.print(t)
    console.print(f"inputs {out['inputs_hash']}\nresult {out['result_hash']}")


@app.command("draw")
def draw_cmd(policy: str = typer.Option(..., "--policy"),
             scope: list[str] = typer.Option(None, "--scope", help="KEY=VALUE: region, industry, kind (repeatable)"),
             seed: str = typer.Option(None, "--seed", help="Published seed (default: a fresh random one)."),
             as_of: str = typer.Option(None, "--as-of", help="Evaluation results as of (default: today)."),
             dry_run: bool = typer.Option(False, "--dry-run", help="Show the result; record nothing."),
             no_tasks: bool = typer.Option(False, "--no-tasks", help="Record the draw without creating tasks."),
             actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Draw subjects by band and inspectors for each (双随机), and record the draw with its
    seed and inputs so anyone can re-run it."""
    with session() as s:
        out = supervision_draws.draw(s, policy_name=policy, scope=parse_scope(scope), seed=seed,
                                     as_of=dt.date.fromisoformat(as_of) if as_of else None, dry_run=dry_run,
                                     create_tasks=not no_tasks, actor=actor)
    if json_out:
        emit_json(out)
    else:
        _show_draw(out)


@app.command("verify")
def verify(draw_id: int, json_out: bool = JsonOpt) -> None:
    """Re-run a recorded draw from its inputs and compare."""
    with session() as s:
        out = supervision_draws.verify(s, draw_id=draw_id)
    if json_out:
        emit_json(out)
    else:
        ok = out["inputs_hash_ok"] and out["result_hash_ok"] and out["items_match"]
        console.print(f"draw {draw_id}: {'[green]reproduced[/green]' if ok else '[red]DOES NOT MATCH[/red]'} {out}")
    if not (out["inputs_hash_ok"] and out["result_hash_ok"] and out["items_match"]):
        raise typer.Exit(1)


@app.command("inputs")
def inputs(draw_id: int, out: Path = typer.Option(None, "--out", help="Write the published inputs here.")) -> None:
    """The draw's inputs as published (JSON): seed, policy hash, candidates, pool, and
    the recorded inputs and result hashes that `replay` checks."""
    writable(out)
    with session() as s:
        text = supervision_draws.published_inputs(supervision_draws.get_draw(s, draw_id))
    if out:
        save(out, text)
        console.print(f"wrote {out}")
    else:
        print(text)


@app.command("replay")
def replay(path: Path,
           expect: str = typer.Option(None, "--result-hash",
                                      help="A result hash published elsewhere (the draw's page, the audit "
                                           "chain): compared instead of the file's own."),
           json_out: bool = JsonOpt) -> None:
    """Re-run a draw from a published inputs file alone (no database needed) and check
    it against the hashes it carries; a mismatch is an error (exit code 2)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"{path}: not a readable JSON file ({exc})") from None
    try:
        check = drawing.check_published(doc, result_hash=expect)
    except InvalidInput as exc:
        raise InvalidInput(f"{path}: {exc}") from None
    res = {"inputs_hash": check.inputs_hash, "result_hash": check.result_hash,
           "published_inputs_hash": check.published_inputs_hash,
           "published_result_hash": check.published_result_hash, "inputs_hash_ok": check.inputs_ok,
           "result_hash_ok": check.result_ok, "ok": check.ok, "items": drawing.result_doc(check.picks)}
    if json_out:
        emit_json(res)
    else:
        console.print(f"{len(check.picks)} drawn\ninputs hash {check.inputs_hash} {_mark(check.inputs_ok)}\n"
                      f"result hash {check.result_hash} {_mark(check.result_ok)}")
    if not check.ok:
        wrong = [f"{what} hash recomputed {mine[:16]}… but published {theirs[:16] if theirs else '?'}…"
                 for what, ok, mine, theirs in (
                     ("inputs", check.inputs_ok, check.inputs_hash, check.published_inputs_hash),
                     ("result", check.result_ok, check.result_hash, check.published_result_hash)) if ok is False]
        raise IntegrityError(f"{path}: the draw does not check out: {'; '.join(wrong)}")


def _mark(ok: bool | None) -> str:
    return {True: "(matches the published one)", False: "(DOES NOT MATCH)",
            None: "(the file carries none to compare: compare it with the draw's published hash)"}[ok]


@app.command("draws")
def draws(policy: str = typer.Option(None, "--policy"), json_out: bool = JsonOpt) -> None:
    with session() as s:
        rows = [supervision_draws.draw_dict(s, d, with_items=False)
                for d in supervision_draws.draws(s, policy_name=policy)]
    if json_out:
        emit_json(rows)
        return
    t = Table(title="draws")
    for c in ("id", "policy", "seed", "as of", "scope", "drawn", "status", "plan"):
        t.add_column(c)
    for d in rows:
        t.add_row(str(d["draw_id"]), escape(label("supervision_policy", d["policy"])), d["seed"], d["as_of"],
                  escape(json.dumps(d["scope"], ensure_ascii=False)), str(d["counts"].get("drawn")),
                  label("draw_status", d["status"]), d["plan_key"] or "")
    console.print(t)


@app.command("show")
def show(draw_id: int, json_out: bool = JsonOpt) -> None:
    with session() as s:
        out = supervision_draws.draw_dict(s, supervision_draws.get_draw(s, draw_id))
    if json_out:
        emit_json(out)
    else:
        _show_draw(out)


@app.command("policies")
def policies(json_out: bool = JsonOpt) -> None:
    with session() as s:
        out = [p.model_dump(mode="json") for p in service.policies(s)]
    if json_out:
        emit_json(out)
        return
    for p in out:
        console.print(f"[bold]{p['name']}[/bold] {p['title']} ({p['basis']} of {p['model'] or 'colour codes'}; "
                      f"{', '.join(p['subject_kinds'])})")
        for b in p["bands"]:   # the label is the key a policy file writes; the name is what pages say
            name = (b.get("name_en") if lang() == "en" else None) or b.get("name_zh") or b["label"]
            console.print(escape(f"  {b['label']:<12} {name} · ratio {b['ratio']:<5} max/yr "
                                 f"{b['max_per_year'] or '—':<3} {b['citation']}"))


@app.command("policies-load")
def policies_load(path: Path = typer.Argument(None), actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    with session() as s:
        out = service.load_policies(s, path=path, actor=actor)
    if json_out:
        emit_json(out)
    else:
        console.print(f"loaded {out['policies']} policies (version {out['version']})")


@app.command("inspectors-load")
def inspectors_load(path: Path = typer.Argument(None, help="A roster file; omit with --demo."),
                    demo: bool = typer.Option(False, "--demo", help="A roster derived from the county's regions."),
                    actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Load the inspector pools (执法检查人员名录库, 网格员)."""
    with session() as s:
        roster = service.demo_roster(s) if demo else None
        out = service.load_inspectors(s, path=path, roster=roster, actor=actor)
    if json_out:
        emit_json(out)
    else:
        console.print(f"{out['inspectors']} inspectors loaded, {out['deactivated']} deactivated")


@app.command("inspectors")
def inspectors(pool: str = typer.Option(None, "--pool", help="One pool only."),
               all_: bool = typer.Option(False, "--all", help="Include deactivated people."),
               json_out: bool = JsonOpt) -> None:
    """The inspector pools with each person's region: a draw never sends anyone to a
    subject in the region they work in (nor to one they inspected last time)."""
    with session() as s:
        out = service.inspector_pools(s, pool=pool, include_inactive=all_)
    if json_out:
        emit_json(out)
        return
    if not out:
        console.print("no inspector pools loaded (`creditgov supervise inspectors-load`)")
    for p in out:
        used = ", ".join(f"{x['name']} ({'/'.join(x['kinds'])})" for x in p["policies"]) or "no policy"
        t = Table(title=escape(f"pool {p['pool']} · {len(p['inspectors'])} people · drawn by {used}"))
        for c in ("code", "name", "kind", "department", "region", "region name", "account", "active"):
            t.add_column(c)
        for i in p["inspectors"]:
            # Roster text is data, not markup.
            t.add_row(*(escape(v) for v in (i["code"], i["name"], i["kind_label"], i["department"],
                                             i["region"] or "—", i["region_name"] or "", i["account"] or "—")),
                      "yes" if i["active"] else "no")
        console.print(t)


@app.command("tasks")
def tasks(status: str = typer.Option(None, "--status"), inspector: str = typer.Option(None, "--inspector"),
          draw_id: int = typer.Option(None, "--draw"), overdue: bool = typer.Option(False, "--overdue"),
          out_file: Path | None = OutOpt, json_out: bool = JsonOpt) -> None:
    """Inspection tasks by due day; `--out FILE` writes them with their results as the
    supervision page's export does."""
    check_out(out_file)
    known(status, get_args(TaskStatus), "--status", "task_status")
    with session() as s:
        rows = supervision_tasks.tasks(s, status=status, inspector=inspector, draw_id=draw_id, overdue=overdue)
        out = [supervision_tasks.task_dict(t) for t in rows]
        table = list(access.task_export_rows(s, rows, lang())) if out_file else []
    if out_file is not None:
        write_out(out_file, table="supervision", title="检查任务" if lang() == "zh" else "Inspection tasks",
                  header=access.TASK_HEADER[lang()], rows=table, json_out=json_out,
                  detail={"status": status, "inspector": inspector, "draw": draw_id, "overdue": overdue})
        return
    if json_out:
        emit_json(out)
        return
    t = Table(title="inspection tasks")
    for c in ("id", "kind", "subject", "band", "assignees", "due", "status", "outcome", "record"):
        t.add_column(c)
    for x in out:
        # A band by its name, as the supervision page says it (its label is a code).
        t.add_row(str(x["id"]), label("task_kind", x["kind"]), str(x["subject_id"]),
                  label("supervision_band", x["band"]) if x["band"] else "",
                  ", ".join(x["assignees"]), x["due_on"], label("task_status", x["status"]),
                  label("task_outcome", x["outcome"]), str(x["record_id"] or ""))
    console.print(t)


@app.command("result")
def result(task_id: int, outcome: str = typer.Option(..., "--outcome", help="passed / problems / penalty"),
           finding: str = typer.Option(None, "--finding"), amount: str = typer.Option(None, "--amount"),
           decision_no: str = typer.Option(None, "--decision-no"), score: str = typer.Option(None, "--score"),
           on: str = typer.Option(None, "--date"), actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Enter an inspection's result; it becomes a credit record through ingestion."""
    with session() as s:
        t, rec = supervision_tasks.record_result(
            s, STATE.keyring(), task_id=task_id, outcome=outcome, finding=finding, penalty_amount=amount,
            decision_no=decision_no, score=score, inspected_on=dt.date.fromisoformat(on) if on else None,
            actor=actor)
        out = {**supervision_tasks.task_dict(t), "record": {"id": rec.id, "item": rec.item_code,
                                                            "version": rec.version, "batch": rec.batch_id}}
    if json_out:
        emit_json(out)
    else:
        console.print(f"task {task_id} done ({outcome}); credit record {rec.id} ({rec.item_code}, v{rec.version}) "
                      f"in batch {rec.batch_id}")


@app.command("cancel")
def cancel(task_id: int, reason: str = typer.Option(..., "--reason"), actor: str = ActorOpt) -> None:
    with session() as s:
        supervision_tasks.cancel_task(s, task_id=task_id, reason=reason, actor=actor)
    console.print(f"task {task_id} cancelled")


@app.command("reassign")
def reassign(task_id: int, assignee: list[str] = typer.Option(..., "--assignee",
                                                              help="An inspector's code; repeat for each."),
             reason: str = typer.Option(..., "--reason"), actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Give an open task to other inspectors, as the draw would (its pool, neither local nor
    the last inspectors, its load cap and number per task); its notice is dated by this assignment."""
    with session() as s:
        out = supervision_tasks.task_dict(supervision_tasks.reassign_task(s, task_id=task_id, assignees=assignee,
                                                                          reason=reason, actor=actor))
    if json_out:
        emit_json(out)
    else:
        console.print(f"task {task_id} assigned to {', '.join(out['assignees'])}", markup=False, highlight=False)


@app.command("patrol")
def patrol(grid: str, assign: bool = typer.Option(False, "--assign", help="Create patrol tasks for grid workers."),
           actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """A grid's key targets (红码 and listed subjects) for patrols."""
    with session() as s:
        out: dict[str, Any] = {"grid": grid, "targets": supervision_patrols.patrol_list(s, grid=grid)}
        if assign:
            made = supervision_patrols.assign_patrols(s, grid=grid, actor=actor)
            out["tasks"] = [supervision_tasks.task_dict(t) for t in made]
    if json_out:
        emit_json(out)
        return
    for x in out["targets"]:
        console.print(f"{x['subject_id']:>8}  {x['name']}  {'; '.join(x['reasons'])}")
    if assign:
        console.print(f"{len(out['tasks'])} patrol tasks created")


@app.command("plans")
def plans(json_out: bool = JsonOpt) -> None:
    """Make this period's planned draws now (the worker does this daily)."""
    STATE.require_init()
    out = supervision_draws.run_plans(STATE.url)
    if json_out:
        emit_json(out)
    else:
        console.print(out)


# ----------------------------------------------------------------------------- special campaigns (专项整治)
# `creditgov campaign …` (mounted by the composition root): open a campaign, add its targets
# from grades, lists or a query, give them tasks, follow and close it with its summary.
# Results are entered like any task's (`creditgov supervise result TASK`).

campaign_app = typer.Typer(help="Special campaigns (专项整治): scope, period, targets, tasks, results and the "
                                "closing summary.", no_args_is_help=True)
DeptOpt = typer.Option(None, "--department", help="Act for this department: its own campaigns only.")


def _csay(text: str) -> None:
    console.print(Text(text))


def _cshow(v: dict[str, Any]) -> None:
    s = v["summary"]
    _csay(f"campaign {v['id']} {v['code']} · {v['title']} · {label('department', v['department'])} · "
         f"{v['starts_on']} – {v['ends_on']} · {label('campaign_status', v['status'])}")
    _csay(f"targets {s['targets']} {s['targets_by_source']} · tasks {s['tasks']} · inspected {s['inspected']} · "
         f"open {s['open']} · cancelled {s['cancelled']} · overdue {s['overdue']}")
    _csay(f"findings {s['findings']} · penalties {s['penalty_total']} · credit records {s['records_created']} "
         f"{s['records_by_item']}")
    t = Table(title=Text("targets"))
    for c in ("subject", "name", "source", "task", "status", "outcome", "record"):
        t.add_column(c)
    for r in s["rows"][:500]:
        t.add_row(*(Text("" if x is None else str(x)) for x in (
            r["subject_id"], r["subject_name"], label("campaign_target_source", r["source"]), r["task"],
            label("task_status", r["status"]) if r["status"] else "", r["outcome"], r["record_id"])))
    console.print(t)


@campaign_app.command("create")
def campaign_create(code: str, title: str = typer.Option(..., "--title"),
                    policy: str = typer.Option(..., "--policy", help="The supervision policy whose result items it uses."),
                    basis: str = typer.Option(..., "--basis", help="The campaign notice it carries out."),
                    start: str = typer.Option(..., "--from", help="First day (YYYY-MM-DD)."),
                    end: str = typer.Option(..., "--to", help="Last day (YYYY-MM-DD)."),
                    region: str = typer.Option(None, "--region", help="Only subjects under this region."),
                    kind: list[str] = typer.Option([], "--kind", help="Only these subject kinds (repeatable)."),
                    industry: list[str] = typer.Option([], "--industry", help="Only these industries (repeatable)."),
                    department: str = DeptOpt, actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Open a campaign over a scope and a period."""
    with session() as s:
        c = campaigns.create(s, code=code, title=title, policy_name=policy, basis=basis,
                             starts_on=dt.date.fromisoformat(start), ends_on=dt.date.fromisoformat(end),
                             scope={"region": region, "kind": kind, "industry": industry}, department=department,
                             actor=actor)
        out = campaigns.campaign_dict(c)
    if json_out:
        emit_json(out)
    else:
        _csay(f"campaign {out['id']} ({out['code']}) opened")


@campaign_app.command("targets")
def campaign_targets(campaign_id: int, source: str = typer.Option(..., "--source", help="grade | list | query"),
                     model: str = typer.Option(None, "--model", help="grade: the model whose latest published run grades."),
                     grade: list[str] = typer.Option([], "--grade", help="grade: these grades (repeatable)."),
                     list_code: list[str] = typer.Option([], "--list", help="list: subjects in force on these lists."),
                     kind: list[str] = typer.Option([], "--kind", help="query: these kinds."),
                     industry: list[str] = typer.Option([], "--industry", help="query: these industries."),
                     department: str = DeptOpt, actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Add targets within the campaign's scope from grades, lists or a query."""
    with session() as s:
        out = campaigns.add_targets(s, campaign_id=campaign_id, source=source, model=model, grades=grade,
                                    lists=list_code, kinds=kind, industries=industry, department=department,
                                    actor=actor)
    if json_out:
        emit_json(out)
    else:
        _csay(f"{out['found']} found, {out['added']} added; {out['targets']} target(s) in all")


@campaign_app.command("tasks")
def campaign_tasks(campaign_id: int,
                   assignee: list[str] = typer.Option([], "--assignee", help="Inspector code (repeatable)."),
                   due: str = typer.Option(None, "--due", help="Due day (default: the campaign's last day)."),
                   department: str = DeptOpt, actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """An inspection task for every target without one."""
    with session() as s:
        made = campaigns.assign_tasks(s, campaign_id=campaign_id, assignees=assignee,
                                      due_on=dt.date.fromisoformat(due) if due else None, department=department,
                                      actor=actor)
        out = [supervision_tasks.task_dict(t) for t in made]
    if json_out:
        emit_json(out)
    else:
        _csay(f"{len(out)} task(s) created")


@campaign_app.command("list")
def campaign_list(status: str = typer.Option(None, "--status", help="open | closed"), department: str = DeptOpt,
                  json_out: bool = JsonOpt) -> None:
    known(status, ("open", "closed"), "--status", "campaign_status")
    with session() as s:
        out = [campaigns.campaign_dict(c) for c in campaigns.campaigns(s, department=department, status=status)]
    if json_out:
        emit_json(out)
        return
    t = Table(title=Text("campaigns"))
    for col in ("id", "code", "title", "department", "period", "status"):
        t.add_column(col)
    for c in out:
        t.add_row(*(Text(str(x)) for x in (c["id"], c["code"], c["title"], label("department", c["department"]),
                                           f"{c['starts_on']} – {c['ends_on']}", label("campaign_status", c["status"]))))
    console.print(t)


@campaign_app.command("show")
def campaign_show(campaign_id: int,
                  xlsx: Path = typer.Option(None, "--xlsx", help="Also write the summary workbook here."),
                  lang: str = typer.Option("zh", "--lang", help="The workbook's language: zh | en."),
                  department: str = DeptOpt, json_out: bool = JsonOpt) -> None:
    """The campaign and its summary (as kept at closing, or as it stands)."""
    writable(xlsx, "--xlsx")
    with session() as s:
        out = campaigns.view(s, campaigns.get(s, campaign_id, department=department))
    if xlsx:
        save(xlsx, campaign_files.workbook(out, "en" if lang == "en" else "zh"), "--xlsx")
        out["xlsx"] = str(xlsx)
    if json_out:
        emit_json(out)
    else:
        _cshow(out)


@campaign_app.command("close")
def campaign_close(campaign_id: int, cancel_open: bool = typer.Option(False, "--cancel-open",
                   help="Cancel the tasks still open."),
                   department: str = DeptOpt, actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Close the campaign and keep its summary."""
    with session() as s:
        c = campaigns.close(s, campaign_id=campaign_id, cancel_open=cancel_open, department=department, actor=actor)
        out = campaigns.view(s, c)
    if json_out:
        emit_json(out)
    else:
        _cshow(out)
