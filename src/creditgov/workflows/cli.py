"""`creditgov objection ...`, `creditgov repair ...`, `creditgov workdays ...` and
`creditgov own-view`: thin commands over the workflow services and `flows.py`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from creditgov.alerts import inbox as alerts_inbox
from creditgov.cli.common import STATE, JsonOpt, console, emit_json, session
from creditgov.commitments import service as commitments_service
from creditgov.core.errors import InvalidInput
from creditgov.subjects import service as subject_service
from creditgov.workflows import calendar, eligibility, flows
from creditgov.workflows.common import get_application, get_objection, get_record
from creditgov.workflows.conditions import sign_repair_commitment
from creditgov.workflows.exchange import outbox, package_dict
from creditgov.workflows.materials import files_dir_for
from creditgov.workflows.objection import (
    extend_objection,
    file_objection,
    objection_dict,
    objections,
    request_review,
    withdraw_objection,
)
from creditgov.workflows.overdue import flag_overdue
from creditgov.workflows.repair import (
    apply_repair,
    forward_repair,
    reject_repair,
    repair_dict,
    repairs,
)
from creditgov.workflows.rules import load_rules, rules

objection_app = typer.Typer(help="Objections to credit records (异议): file, extend, decide, review.",
                            no_args_is_help=True)
repair_app = typer.Typer(help="Credit repair (信用修复): dates, eligibility, apply, forward, decide.",
                         no_args_is_help=True)
workdays_app = typer.Typer(help="China's working-day calendar (工作日) and its overrides.", no_args_is_help=True)

ActorOpt = typer.Option(None, "--actor", help="Who acts (default: $CREDITGOV_ACTOR or cli:<user>).")


def _done(out: Any, json_out: bool, message: str) -> None:
    if json_out:
        emit_json(out)
    else:
        console.print(message, highlight=False)


def _subject_id(s: Any, key: str) -> int:
    return subject_service.resolve(s, STATE.keyring(), key).id


def _corrections(pairs: list[str] | None) -> dict[str, str] | None:
    if not pairs:
        return None
    out = {}
    for p in pairs:
        k, sep, v = p.partition("=")
        if not sep:
            raise InvalidInput(f"--set takes FIELD=VALUE, got {p!r}")
        out[k.strip()] = v.strip()
    return out


def _files_dir() -> Path:
    return files_dir_for(STATE.url)


def _cases_table(title: str, rows: list[dict[str, Any]], cols: list[tuple[str, str]]) -> None:
    t = Table(title=title)
    for head, _ in cols:
        t.add_column(head)
    for r in rows:
        t.add_row(*[("" if r.get(k) is None else str(r.get(k))) for _, k in cols])
    console.print(t)


# ----------------------------------------------------------------------------- objection

OBJECTION_COLS = [("id", "id"), ("subject", "subject_id"), ("record", "record_id"), ("department", "department"),
                  ("received", "received_on"), ("status", "status"), ("deadline", "deadline"),
                  ("days left", "working_days_left"), ("outcome", "outcome")]


@objection_app.command("file")
def objection_file(key: str = typer.Argument(..., help="Subject: id, credit code or ID number."),
                   records: list[int] = typer.Option(..., "--record", help="A record id (repeat for several)."),
                   reason: str = typer.Option(..., "--reason", help="Why the records are wrong."),
                   evidence: list[Path] = typer.Option(None, "--evidence", help="An evidence file (repeatable)."),
                   window: bool = typer.Option(False, "--window", help="Filed by staff at a service window."),
                   actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Object to records: they are marked disputed at once and routed to their department."""
    with session() as s:
        got = file_objection(s, subject_id=_subject_id(s, key), record_ids=records, reason=reason,
                             channel="window" if window else "self", evidence=evidence or [],
                             files_dir=_files_dir(), actor=actor)
        out = [objection_dict(s, o) for o in got]
    _done(out, json_out, "\n".join(f"objection {o['id']}: record {o['record_id']} disputed, "
                                   f"{o['department']} decides by {o['due_on']}" for o in out))


@objection_app.command("list")
def objection_list(subject: str = typer.Option(None, "--subject", help="Only this subject."),
                   status: str = typer.Option(None, "--status", help="open, decided, reviewing, reviewed, withdrawn."),
                   department: str = typer.Option(None, "--department", help="Only cases of this department."),
                   json_out: bool = JsonOpt) -> None:
    """Objections with their deadlines (working days left; negative when overdue)."""
    with session() as s:
        sid = _subject_id(s, subject) if subject else None
        cal = calendar.load(s)
        out = [objection_dict(s, o, cal=cal) for o in objections(s, subject_id=sid, status=status,
                                                                 department=department)]
    if json_out:
        emit_json(out)
        return
    _cases_table("objections", out, OBJECTION_COLS)


@objection_app.command("show")
def objection_show(objection_id: int = typer.Argument(...), json_out: bool = JsonOpt) -> None:
    """One objection in full."""
    with session() as s:
        out = objection_dict(s, get_objection(s, objection_id))
    if json_out:
        emit_json(out)
        return
    for k, v in out.items():
        console.print(f"[bold]{k}[/bold]: {v}", highlight=False)


@objection_app.command("extend")
def objection_extend(objection_id: int = typer.Argument(...),
                     department: str = typer.Option(..., "--department", help="The handling department."),
                     reason: str = typer.Option(..., "--reason", help="Why more time is needed."),
                     actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """The one extension, to the maximum total working days from receipt."""
    with session() as s:
        out = objection_dict(s, extend_objection(s, objection_id=objection_id, reason=reason,
                                                 department=department, actor=actor))
    _done(out, json_out, f"objection {objection_id} now due {out['due_on']}")


@objection_app.command("decide")
def objection_decide(objection_id: int = typer.Argument(...),
                     department: str = typer.Option(..., "--department",
                                                help="The department that supplied it, or the credit office."),
                     outcome: str = typer.Option(..., "--outcome", help="corrected, deleted or upheld."),
                     reason: str = typer.Option(..., "--reason", help="The reason the subject is told."),
                     sets: list[str] = typer.Option(None, "--set", help="FIELD=VALUE of a correction (repeatable)."),
                     actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Decide an objection: corrected (new version), deleted (revoked) or upheld."""
    with session() as s:
        o = flows.decide_objection(s, objection_id=objection_id, outcome=outcome, reason=reason,
                                   department=department, corrections=_corrections(sets), actor=actor)
        out = objection_dict(s, o)
    _done(out, json_out, f"objection {objection_id}: {outcome}"
          + (f" (new version {out['result_record_id']})" if out["result_record_id"] else ""))


@objection_app.command("review")
def objection_review(objection_id: int = typer.Argument(...),
                     reason: str = typer.Option(..., "--reason", help="Why the decision is contested."),
                     actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Ask for the one review (复核) of a decision."""
    with session() as s:
        out = objection_dict(s, request_review(s, objection_id=objection_id, reason=reason,
                                               actor=actor))
    _done(out, json_out, f"objection {objection_id}: review by {out['review']['authority']} "
                         f"due {out['review']['due_on']}")


@objection_app.command("review-decide")
def objection_review_decide(objection_id: int = typer.Argument(...),
                            unit: str = typer.Option(..., "--unit", help="The review authority."),
                            outcome: str = typer.Option(..., "--outcome", help="corrected, deleted or upheld."),
                            reason: str = typer.Option(..., "--reason"),
                            sets: list[str] = typer.Option(None, "--set", help="FIELD=VALUE (repeatable)."),
                            actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """The review authority's final decision."""
    with session() as s:
        out = objection_dict(s, flows.decide_review(s, objection_id=objection_id, outcome=outcome,
                                                    reason=reason, unit=unit,
                                                    corrections=_corrections(sets), actor=actor))
    _done(out, json_out, f"objection {objection_id}: review {outcome}")


@objection_app.command("withdraw")
def objection_withdraw(objection_id: int = typer.Argument(...),
                       reason: str = typer.Option("", "--reason"), actor: str = ActorOpt,
                       json_out: bool = JsonOpt) -> None:
    """The subject withdraws an open objection; the record returns to force."""
    with session() as s:
        out = objection_dict(s, withdraw_objection(s, objection_id=objection_id, reason=reason,
                                                   actor=actor))
    _done(out, json_out, f"objection {objection_id} withdrawn")


@objection_app.command("overdue")
def objection_overdue(actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Alert the departments and the credit office of every case past its deadline."""
    with session() as s:
        out = flag_overdue(s, actor=actor)
    _done(out, json_out, f"overdue: {len(out['objection'])} objections, {len(out['repair'])} repairs alerted")


@objection_app.command("inbox")
def inbox(subject: str = typer.Option(None, "--subject", help="A subject's inbox."),
          department: str = typer.Option(None, "--department", help="A department's desk."),
          json_out: bool = JsonOpt) -> None:
    """Messages of the objection and repair procedures."""
    if bool(subject) == bool(department):
        raise InvalidInput("give --subject or --department")
    with session() as s:
        kind, who = ("subject", str(_subject_id(s, subject))) if subject else ("department", department)
        out = [alerts_inbox.message_dict(m) for m in alerts_inbox.messages(s, recipient_kind=kind, recipient=who)]
    if json_out:
        emit_json(out)
        return
    _cases_table(f"inbox of {kind} {who}", out, [("at", "at"), ("topic", "topic"), ("ref", "ref"), ("body", "body")])


# ----------------------------------------------------------------------------- repair

REPAIR_COLS = [("id", "id"), ("subject", "subject_id"), ("record", "record_id"), ("tier", "tier"),
               ("applied", "applied_on"), ("status", "status"), ("deadline", "deadline"),
               ("department", "department"), ("reason", "refusal_reason")]


@repair_app.command("schedule")
def repair_schedule(key: str = typer.Argument(..., help="Subject: id, credit code or ID number."),
                    json_out: bool = JsonOpt) -> None:
    """Each negative record's tier, the date repair can be applied for, and the end of publication."""
    with session() as s:
        out = eligibility.repair_schedule(s, _subject_id(s, key))
    if json_out:
        emit_json(out)
        return
    _cases_table("repair schedule", out, [("record", "record_id"), ("item", "item_name"), ("tier", "tier"),
                                          ("status", "status"), ("published", "publication_start"),
                                          ("repairable from", "repairable_from"),
                                          ("publication ends", "publication_ends")])


@repair_app.command("eligibility")
def repair_eligibility(record_id: int = typer.Argument(...), json_out: bool = JsonOpt) -> None:
    """Check every condition of repair for one record, today."""
    with session() as s:
        out = eligibility.eligibility(s, record_id=record_id).as_dict()
    if json_out:
        emit_json(out)
        return
    console.print(f"record {record_id} ({out['tier']}): {'eligible' if out['eligible'] else 'not eligible'}")
    for c in out["checks"]:
        console.print(f"  {'✓' if c['met'] else '✗'} {c['condition']}: {c['detail']}", highlight=False)


@repair_app.command("fulfil")
def repair_fulfil(record_id: int = typer.Argument(...),
                  department: str = typer.Option(..., "--department",
                                                help="The department that supplied it, or the credit office."),
                  note: str = typer.Option(None, "--note", help="What was done (e.g. fine paid on …)."),
                  actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Record that a record's obligations are fulfilled (the behaviour is corrected)."""
    with session() as s:
        rec = get_record(s, record_id)
        c = eligibility.record_condition(s, kind="obligations-fulfilled", subject_id=rec.subject_id,
                                         record_id=record_id, department=department, note=note, actor=actor)
        out = {"id": c.id, "record_id": record_id, "met_on": c.met_on.isoformat(), "department": department}
    _done(out, json_out, f"record {record_id}: obligations recorded as fulfilled on {out['met_on']}")


@repair_app.command("training")
def repair_training(key: str = typer.Argument(...),
                    course: str = typer.Option(..., "--course", help="The training attended."),
                    actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Record a credit-repair training attended by the subject."""
    with session() as s:
        c = eligibility.record_condition(s, kind="training", subject_id=_subject_id(s, key), note=course, actor=actor)
        out = {"id": c.id, "subject_id": c.subject_id, "met_on": c.met_on.isoformat(), "course": course}
    _done(out, json_out, f"training recorded on {out['met_on']}")


@repair_app.command("commitment")
def repair_commitment(key: str = typer.Argument(..., help="Subject: id, credit code or ID number."),
                      agree: bool = typer.Option(False, "--agree", help="The signer read the commitment's text "
                                                                       "and agrees to it; required."),
                      signed_by: str = typer.Option(None, "--signed-by", help="Who signed for the subject (e.g. "
                                                                              "the legal representative); required."),
                      actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Record the credit-repair commitment (信用修复承诺书) a subject signed at the credit
    office's window: the repair's own door, as on the web (`commitment sign` refuses
    it). One in force is enough; the subject is told."""
    with session() as s:
        c = sign_repair_commitment(s, subject_id=_subject_id(s, key), unit=rules(s).credit_office, agreed=agree,
                                   signed_by=signed_by, actor=actor)
        out = commitments_service.as_dict(c)
    _done(out, json_out, f"credit-repair commitment {out['id']} signed by {out['signed_by']}; "
                         f"due {out['due_on'] or '—'}")


@repair_app.command("apply")
def repair_apply(key: str = typer.Argument(..., help="Subject: id, credit code or ID number."),
                 record_id: int = typer.Option(..., "--record", help="The negative record to repair."),
                 material: list[Path] = typer.Option(None, "--material", help="A material file (repeatable)."),
                 applicant: str = typer.Option(None, "--applicant", help="Who applies for the subject."),
                 window: bool = typer.Option(False, "--window", help="Filed by staff at a service window."),
                 actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Apply for repair; eligibility is checked at once (a refusal says why and from when)."""
    with session() as s:
        a = apply_repair(s, subject_id=_subject_id(s, key), record_id=record_id, applicant=applicant,
                         channel="window" if window else "self", materials_files=material or [],
                         files_dir=_files_dir(), actor=actor)
        out = repair_dict(s, a)
    if out["status"] == "refused":
        _done(out, json_out, f"application {out['id']} refused: {out['refusal_reason']}")
    else:
        _done(out, json_out, f"application {out['id']} received; the intake answers by {out['intake_due_on']}")


@repair_app.command("list")
def repair_list(subject: str = typer.Option(None, "--subject"), status: str = typer.Option(None, "--status"),
                department: str = typer.Option(None, "--department"), json_out: bool = JsonOpt) -> None:
    """Repair applications with their deadlines."""
    with session() as s:
        sid = _subject_id(s, subject) if subject else None
        out = [repair_dict(s, a) for a in repairs(s, subject_id=sid, status=status,
                                                  department=department)]
    if json_out:
        emit_json(out)
        return
    _cases_table("repair applications", out, REPAIR_COLS)


@repair_app.command("show")
def repair_show(application_id: int = typer.Argument(...), json_out: bool = JsonOpt) -> None:
    """One application in full."""
    with session() as s:
        out = repair_dict(s, get_application(s, application_id))
    if json_out:
        emit_json(out)
        return
    for k, v in out.items():
        console.print(f"[bold]{k}[/bold]: {v}", highlight=False)


@repair_app.command("forward")
def repair_forward(application_id: int = typer.Argument(...),
                   unit: str = typer.Option(..., "--unit", help="The intake (credit office)."),
                   actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """The intake forwards an application to the identifying department."""
    with session() as s:
        out = repair_dict(s, forward_repair(s, application_id=application_id, unit=unit,
                                            actor=actor))
    _done(out, json_out, f"application {application_id} forwarded to {out['department']}, "
                         f"decision due {out['decision_due_on']}")


@repair_app.command("approve")
def repair_approve(application_id: int = typer.Argument(...),
                   department: str = typer.Option(..., "--department", help="The identifying department."),
                   reason: str = typer.Option(None, "--reason"), actor: str = ActorOpt,
                   json_out: bool = JsonOpt) -> None:
    """Approve: the record is repaired, lists exit, the subject is re-evaluated, the change is queued."""
    with session() as s:
        out = flows.approve_repair(s, application_id=application_id, department=department, reason=reason,
                                   actor=actor)
    _done(out, json_out, f"application {application_id} approved: record {out['record']['id']} repaired; "
                         f"{len(out['lists']['exited'])} list entries exited; "
                         f"{len(out['exchange'])} exchange packages queued")


@repair_app.command("reject")
def repair_reject(application_id: int = typer.Argument(...),
                  unit: str = typer.Option(..., "--unit", help="The intake or the identifying department."),
                  reason: str = typer.Option(..., "--reason", help="Always required."),
                  actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Reject an application, with its reason."""
    with session() as s:
        out = repair_dict(s, reject_repair(s, application_id=application_id, unit=unit,
                                           reason=reason, actor=actor))
    _done(out, json_out, f"application {application_id} rejected")


@repair_app.command("daily")
def repair_daily(actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """The worker's daily job: end publication at the maximum period once corrected,
    and alert every overdue objection and repair."""
    with session() as s:
        ended = flows.end_publication(s, actor=actor)
        overdue = flag_overdue(s, actor=actor)
    out = {"publication_ended": ended, "overdue": overdue}
    _done(out, json_out, f"publication ended for {len(ended)} records; overdue alerts: "
                         f"{len(overdue['objection'])} objections, {len(overdue['repair'])} repairs")


@repair_app.command("outbox")
def repair_outbox(status: str = typer.Option("queued", "--status", help="queued, packaged or sent ('' for all)."),
                  json_out: bool = JsonOpt) -> None:
    """The exchange outbox: changes queued for every place a record went."""
    with session() as s:
        out = [package_dict(p) for p in outbox(s, status=status or None)]
    if json_out:
        emit_json(out)
        return
    _cases_table("exchange outbox", out, [("id", "id"), ("record", "record_id"), ("recipient", "recipient"),
                                          ("kind", "kind"), ("cause", "cause"), ("status", "status")])


@repair_app.command("rules")
def repair_rules(json_out: bool = JsonOpt) -> None:
    """The objection and repair rules in force, with their citations."""
    with session() as s:
        out = rules(s).model_dump()
    if json_out:
        emit_json(out)
        return
    console.print_json(data=out)


@repair_app.command("rules-load")
def repair_rules_load(path: Path = typer.Argument(..., help="A rules YAML (see workflows/data/rules.yaml)."),
                      actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Validate a rules file and put it in force."""
    with session() as s:
        out = load_rules(s, path=path, actor=actor)
    _done(out, json_out, f"workflow rules {out['version']} in force")


# ----------------------------------------------------------------------------- calendar


@workdays_app.command("check")
def workdays_check(day: str = typer.Argument(..., help="YYYY-MM-DD"),
                   add: int = typer.Option(None, "--add", help="Also give the N-th working day after it."),
                   json_out: bool = JsonOpt) -> None:
    """Whether a day is a working day and why; with --add, a deadline from it."""
    d = dt.date.fromisoformat(day)
    with session() as s:
        cal = calendar.load(s)
        working, why = cal.explain(d)
        out: dict[str, Any] = {"date": d.isoformat(), "working": working, "why": why,
                               "year": calendar.year_status(d.year)}
        if add is not None:
            out["add"] = add
            out["deadline"] = cal.add_working_days(d, add).isoformat()
    _done(out, json_out, f"{d} {'is' if working else 'is not'} a working day ({why})"
          + (f"; {add} working days later: {out['deadline']}" if add is not None else ""))


@workdays_app.command("list")
def workdays_list(year: int = typer.Argument(...), json_out: bool = JsonOpt) -> None:
    """A year's holidays, adjusted working weekends and overrides."""
    with session() as s:
        days = calendar.special_days(s, year)
    out = {"year": year, "status": calendar.year_status(year), "days": days}
    if json_out:
        emit_json(out)
        return
    _cases_table(f"{year} ({out['status']})", days,
                 [("date", "date"), ("day", "weekday"), ("working", "working"), ("why", "why")])


@workdays_app.command("set")
def workdays_set(day: str = typer.Argument(..., help="YYYY-MM-DD"),
                 working: bool = typer.Option(..., "--working/--holiday", help="A working day or a day off."),
                 name: str = typer.Option(..., "--name"),
                 source: str = typer.Option(..., "--source", help="The notice it comes from."),
                 force: bool = typer.Option(False, "--force", help="Override a year whose notice is known."),
                 actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Override one day."""
    with session() as s:
        row = calendar.set_day(s, day=dt.date.fromisoformat(day), working=working, name=name, source=source,
                               force=force, actor=actor)
        out = {"date": row.day.isoformat(), "working": row.is_working, "name": row.name, "source": row.source}
    _done(out, json_out, f"{day}: {'working day' if working else 'day off'} ({name})")


@workdays_app.command("unset")
def workdays_unset(day: str = typer.Argument(...), actor: str = ActorOpt) -> None:
    """Remove an override."""
    with session() as s:
        calendar.remove_day(s, day=dt.date.fromisoformat(day), actor=actor)
    console.print(f"{day}: override removed")


@workdays_app.command("load")
def workdays_load(path: Path = typer.Argument(..., help="A year file: year, source, days."),
                  force: bool = typer.Option(False, "--force"), actor: str = ActorOpt,
                  json_out: bool = JsonOpt) -> None:
    """Load a year's holiday arrangement as overrides."""
    with session() as s:
        out = calendar.load_year(s, path=path, force=force, actor=actor)
    _done(out, json_out, f"{out['year']}: {out['days']} days from {out['source']}")


# ----------------------------------------------------------------------------- the subject's own view


def own_view(key: str = typer.Argument(..., help="Subject: id, credit code or ID number."),
             json_out: bool = JsonOpt) -> None:
    """A subject's own view: file, scores explained, lists, objections, repairs, who read it.

    The service behind it (`workflows.flows.own_view`) is what the web's signed-in
    subject page shows (`/me/credit`, and `GET /api/v1/me/credit`)."""
    with session() as s:
        out = flows.own_view(s, STATE.keyring(), key)
    if json_out:
        emit_json(out)
        return
    f = out["file"]
    console.print(f"[bold]{f['name']}[/bold] ({f['kind']}, id {f['id']}) — as of {out['as_of']}", highlight=False)
    for sc in out["scores"]:
        e = sc["explanation"]
        console.print(f"  {sc['model']}: {e['score']} {e['grade']} {e['colour']}"
                      f" (published run: {sc['published_grade'] or '—'})", highlight=False)
    console.print(f"  records: {len(f['records'])}, published now: {len(out['published_record_ids'])}; "
                  f"lists: {[e['list'] for e in out['lists'] if e['status'] == 'published']}", highlight=False)
    if out["objections"]:
        _cases_table("objections", out["objections"], OBJECTION_COLS)
    if out["repairs"]:
        _cases_table("repairs", out["repairs"], REPAIR_COLS)
    if out["repair_schedule"]:
        _cases_table("repair dates", out["repair_schedule"],
                     [("record", "record_id"), ("item", "item_name"), ("tier", "tier"), ("status", "status"),
                      ("repairable from", "repairable_from"), ("publication ends", "publication_ends")])
    _cases_table("who read this file", out["readers"][:20],
                 [("at", "at"), ("who", "actor"), ("what", "action"), ("purpose", "purpose")])
