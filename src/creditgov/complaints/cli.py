"""`creditgov complaints …`: take a complaint at the counter, assign, extend, answer,
list, show and the statistics by department. Every command has `--json`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

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
    session,
    write_out,
)
from creditgov.complaints import access, service
from creditgov.complaints.schemas import ComplaintIn
from creditgov.security import service as audit

app = typer.Typer(help="Complaints (投诉处理): intake, assignment, deadlines, replies, statistics.",
                  no_args_is_help=True)
ActorOpt = typer.Option(None, "--actor", help="Who acts (default: $CREDITGOV_ACTOR or cli:<user>).")


def _pair(v: dict[str, Any] | None) -> str:
    return f"{v['label_zh']} / {v['label_en']}" if v else ""


def _show(d: dict[str, Any], json_out: bool, extra: dict[str, Any] | None = None) -> None:
    if json_out:
        emit_json({**d, **(extra or {})})
        return
    dept = label("department", d["department"]) if d["department"] else access.UNASSIGNED[lang()]
    console.print(f"{d['number']}  {_pair(d['status'])}  due {d['due_on']}  department {dept}",
                  markup=False, highlight=False)
    for k, v in (extra or {}).items():
        console.print(f"{k}: {v}", markup=False, highlight=False)


@app.command("file")
def file_(category: str = typer.Option(..., "--category"), respondent: str = typer.Option(..., "--respondent"),
          content: str = typer.Option(..., "--content"),
          code: str | None = typer.Option(None, "--code", help="The respondent's unified social credit code."),
          name: str | None = typer.Option(None, "--name", help="The complainant's name."),
          contact: str | None = typer.Option(None, "--contact", help="Mobile number or e-mail address."),
          actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Take a complaint at the counter (channel `counter`); prints its number and query code."""
    data = ComplaintIn(category=category, respondent_name=respondent, respondent_code=code, content=content,
                       complainant_name=name, contact=contact)
    kr = STATE.keyring()
    with session() as s:
        c, q = service.file_complaint(s, kr, data, channel="counter", actor=actor)
        d = access.as_dict(kr, c)
    _show(d, json_out, {"query_code": q})


@app.command("assign")
def assign(complaint_id: int, department: str = typer.Option(..., "--department"),
           note: str | None = typer.Option(None, "--note"), actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Assign a complaint to the department that handles it."""
    kr = STATE.keyring()
    with session() as s:
        d = access.as_dict(kr, service.assign(s, complaint_id, department=department, note=note,
                                                           actor=actor))
    _show(d, json_out)


@app.command("extend")
def extend(complaint_id: int, reason: str = typer.Option(..., "--reason"), actor: str = ActorOpt,
           json_out: bool = JsonOpt) -> None:
    """Extend the reply deadline once (by the policy's extension_days)."""
    kr = STATE.keyring()
    with session() as s:
        d = access.as_dict(kr, service.extend(s, complaint_id, reason=reason, actor=actor))
    _show(d, json_out)


@app.command("reply")
def reply(complaint_id: int, outcome: str = typer.Option(..., "--outcome",
                                                         help="substantiated | unsubstantiated | not_accepted"),
          text: str = typer.Option(..., "--text"), actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Answer a complaint; a substantiated one against a known firm is proposed as a record
    (approve it with `creditgov entry approve`)."""
    kr = STATE.keyring()
    with session() as s:
        d = access.as_dict(kr, service.reply(s, kr, complaint_id, outcome=outcome,
                                                          text=text, actor=actor))
    _show(d, json_out, {"on_time": d["on_time"], "manual_entry_id": d["manual_entry_id"]})


@app.command("list")
def list_(status: str | None = typer.Option(None, "--status"), limit: int = typer.Option(100, min=1, max=1000),
          out: Path | None = OutOpt, json_out: bool = JsonOpt) -> None:
    """Complaints, newest first (complainants masked); `--out FILE` writes them as the
    complaints page's export does."""
    from sqlalchemy import select

    from creditgov.complaints.models import STATUSES, Complaint

    check_out(out)
    known(status, STATUSES, "--status", "complaint_status")
    kr = STATE.keyring()
    with session() as s:
        q = select(Complaint).order_by(Complaint.id.desc()).limit(limit)
        if status:
            q = q.where(Complaint.status == status)
        found = list(s.execute(q).scalars())
        rows = [access.as_dict(kr, c) for c in found]
        table = list(access.export_rows(found, lang=lang())) if out else []
    if out is not None:
        write_out(out, table="complaints", title="投诉处理" if lang() == "zh" else "Complaints",
                  header=access.HEADER[lang()], rows=table, json_out=json_out, detail={"status": status})
        return
    if json_out:
        emit_json(rows)
        return
    t = Table(title="complaints / 投诉")
    for c in ("number", "status", "category", "respondent", "department", "due", "outcome"):
        t.add_column(c)
    for r in rows:
        t.add_row(r["number"], _pair(r["status"]), _pair(r["category"]), escape(r["respondent_name"]),
                  label("department", r["department"]) if r["department"] else "",
                  r["due_on"] + (" !" if r["overdue"] else ""), _pair(r["outcome"]))
    console.print(t)


@app.command("show")
def show(complaint_id: int, json_out: bool = JsonOpt) -> None:
    """One complaint in full, the complainant's name and contact included (an audited read)."""
    kr = STATE.keyring()
    with session() as s:
        c = service.get(s, complaint_id)
        audit.append(s, action="complaints.read", subject_id=c.subject_id, purpose="complaint handling",
                     detail={"complaint": c.id})
        d = access.as_dict(kr, c, full=True)
    if json_out:
        emit_json(d)
        return
    for k, v in d.items():
        if k == "department":
            v = label("department", v) if v else access.UNASSIGNED[lang()]
        console.print(f"{k}: {_pair(v) if isinstance(v, dict) else '—' if v is None else v}", markup=False,
                      highlight=False)


@app.command("stats")
def stats(out: Path | None = OutOpt, json_out: bool = JsonOpt) -> None:
    """Per department: received, answered, on time, open, overdue, on-time rate;
    `--out FILE` writes the complaints page's export of it."""
    check_out(out)
    with session() as s:
        rows = service.stats(s)
    if out is not None:
        write_out(out, table="complaints", title="各部门办理情况" if lang() == "zh" else "Complaints by department",
                  header=access.STATS_HEADER[lang()], rows=access.stats_rows(rows, lang=lang()), json_out=json_out,
                  detail={"table": "stats"})
        return
    if json_out:
        emit_json(rows)
        return
    t = Table(title="complaints by department / 各部门投诉办理")
    for c in ("department", "received", "answered", "on time", "open", "overdue", "on-time rate"):
        t.add_column(c)
    for r in rows:
        rate = "" if r["on_time_rate"] is None else f"{r['on_time_rate']:.1%}"
        t.add_row(label("department", r["department"]) if r["department"] else access.UNASSIGNED[lang()],
                  *(str(r[k]) for k in ("received", "answered", "on_time", "open", "overdue")), rate)
    console.print(t)
