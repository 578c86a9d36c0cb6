"""`creditgov points …` (balances, history, awards, the daily run, the rules) and
`creditgov shop …` (the points supermarket: shops, offers, redemptions, settlement)."""

from __future__ import annotations

import uuid
from pathlib import Path

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from creditgov.cli.common import STATE, JsonOpt, console, emit_json, session
from creditgov.core import clock
from creditgov.points import access, boards, demo, ledger, merchants, rules, service, shop
from creditgov.points.schemas import OfferIn, ShopIn
from creditgov.security import service as audit
from creditgov.subjects import service as subject_service

app = typer.Typer(help="Credit points (信用积分): balances, history, awards, the daily run.", no_args_is_help=True)
selection_app = typer.Typer(help="The credit-merchant selection (诚信商户评选): open, nominate, object, decide.",
                            no_args_is_help=True)
app.add_typer(selection_app, name="selection")
shop_app = typer.Typer(help="The points supermarket (积分超市): shops, offers, redemptions.", no_args_is_help=True)
ActorOpt = typer.Option(None, "--actor", help="Who acts (default: $CREDITGOV_ACTOR or cli:<user>).")
SubjectArg = typer.Argument(..., help="Subject: id, credit code, ID number or exact name.")


def _subject(s: Session, key: str) -> int:
    return subject_service.resolve(s, STATE.keyring(), key).id


@app.command("balance")
def balance(key: str = SubjectArg, json_out: bool = JsonOpt) -> None:
    """A subject's balance and what expires within 90 days."""
    with session() as s:
        out = access.summary(s, _subject(s, key), limit=0)
        audit.append(s, action="points.read", subject_id=out["subject_id"], purpose="points")
    out.pop("entries")
    out.pop("next_before")
    if json_out:
        emit_json(out)
        return
    console.print(f"subject {out['subject_id']}: {out['balance']} points "
                  f"({out['expiring_within_90_days']} expire within 90 days)")


@app.command("history")
def history(key: str = SubjectArg, limit: int = typer.Option(50, min=1, max=1000), json_out: bool = JsonOpt) -> None:
    """A subject's ledger, newest first: every entry with its cause."""
    with session() as s:
        out = access.summary(s, _subject(s, key), limit=limit)
        audit.append(s, action="points.read", subject_id=out["subject_id"], purpose="points")
    if json_out:
        emit_json(out)
        return
    t = Table(title=f"points of subject {out['subject_id']}: balance {out['balance']}")
    for c in ("#", "date", "points", "kind", "cause", "ref", "expires", "note"):
        t.add_column(c)
    for e in out["entries"]:
        t.add_row(str(e["id"]), e["on"], f"{e['amount']:+d}", "/".join(e["kind_label"]), "/".join(e["cause_label"]),
                  f"{e['ref_type']} {e['ref_id'] or ''}", e["expires_on"] or "", e["note"] or "")
    console.print(t)


@app.command("award")
def award(key: str = SubjectArg, points: int = typer.Option(..., "--points", min=1),
          reason: str = typer.Option(..., "--reason"), actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Propose a manual award; a second person approves it (`points approve`)."""
    with session() as s:
        a, new = ledger.propose_award(s, subject_id=_subject(s, key), points=points, reason=reason,
                                      actor=actor or audit.default_actor())
        out = {"award": a.id, "status": a.status, "new": new}
    said = "proposed" if new else "was already proposed (the same award waits)"
    emit_json(out) if json_out else console.print(f"award {out['award']} {said}; it needs a second person's approval")


@app.command("approve")
def approve(award_id: int = typer.Argument(...), reject: bool = typer.Option(False, "--reject"),
            actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Approve (or --reject) a proposed award: not by the person who proposed it."""
    with session() as s:
        a = ledger.decide_award(s, award_id, approve=not reject, actor=actor or audit.default_actor())
        out = {"award": a.id, "status": a.status, "entry": a.entry_id}
    emit_json(out) if json_out else console.print(f"award {out['award']} {out['status']}")


@app.command("run")
def run(json_out: bool = JsonOpt) -> None:
    """The daily pass now: credit runs and records, reverse corrections, expire."""
    with session() as s:
        out = service.run_daily(s, actor=audit.default_actor())
    if json_out:
        emit_json(out)
        return
    ev, rec, ex = out["evaluations"], out["records"], out["expired"]
    console.print(f"evaluations: {ev['credited']} credits from {ev['runs']} runs, {ev['reversed']} reversed; "
                  f"records: {rec['credited']} credited ({rec['capped']} capped), {out['reversed_records']} reversed; "
                  f"expired: {ex['points']} points of {ex['subjects']} subjects; "
                  f"reservations expired: {out['reservations_expired']}")


@app.command("rules-load")
def rules_load(path: Path = typer.Argument(..., exists=True, dir_okay=False), actor: str = ActorOpt) -> None:
    """Put a changed earning-rules file in force (the newest loaded copy wins)."""
    with session() as s:
        out = rules.load_rules(s, path=path, actor=actor or audit.default_actor())
    console.print(f"points rules {out['version']} in force (sha256 {out['sha256'][:12]})")


# ------------------------------------------------------------------ shop
@shop_app.command("add")
def shop_add(code: str = typer.Argument(...), name: str = typer.Option(..., "--name"),
             subject: str = typer.Option(None, "--subject", help="The shop's own subject (a credit merchant)."),
             address: str = typer.Option(None, "--address"), actor: str = ActorOpt) -> None:
    with session() as s:
        sid = _subject(s, subject) if subject else None
        out = shop.add_shop(s, ShopIn(code=code, name=name, subject_id=sid, address=address),
                            actor=actor or audit.default_actor())
        console.print(f"shop {out.code} added")


@shop_app.command("offer")
def shop_offer(code: str = typer.Argument(..., help="The shop's code."), title: str = typer.Option(..., "--title"),
               price: int = typer.Option(..., "--price", min=1), stock: int = typer.Option(..., "--stock", min=0),
               valid_from: str = typer.Option(None, "--from"), valid_until: str = typer.Option(..., "--until"),
               kinds: str = typer.Option("", "--kinds", help="Subject kinds, comma-separated (default: any)."),
               min_band: str = typer.Option(None, "--min-band"), actor: str = ActorOpt) -> None:
    data = OfferIn.model_validate({"shop": code, "title": title, "price": price, "stock": stock,
                                   "valid_from": valid_from or clock.today().isoformat(),
                                   "valid_until": valid_until, "min_band": min_band,
                                   "kinds": [k.strip() for k in kinds.split(",") if k.strip()]})
    with session() as s:
        o = shop.add_offer(s, data, actor=actor or audit.default_actor())
        console.print(f"offer {o.id} added to {code}")


@shop_app.command("list")
def shop_list(json_out: bool = JsonOpt) -> None:
    """Shops with their offers and items left."""
    with session() as s:
        rows = access.shops(s)
        offers = access.offers(s)
    if json_out:
        emit_json({"shops": rows, "offers": offers})
        return
    t = Table(title="points supermarket")
    for c in ("offer", "shop", "title", "price", "left", "valid until", "for"):
        t.add_column(c)
    for o in offers:
        t.add_row(str(o["id"]), o["shop_name"], o["title"], str(o["price"]), f"{o['left']}/{o['stock']}",
                  o["valid_until"], ",".join(o["kinds"]) or "all")
    console.print(t)


@shop_app.command("redeem")
def shop_redeem(key: str = SubjectArg, offer: int = typer.Option(..., "--offer"),
                idempotency_key: str = typer.Option(None, "--key", help="Retrying with the same key redeems once."),
                actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Redeem at a counter for a subject present there: prints the redemption code."""
    with session() as s:
        r, created = shop.redeem(s, subject_id=_subject(s, key), offer_id=offer,
                                 key=idempotency_key or uuid.uuid4().hex, actor=actor or audit.default_actor())
        out = {**access.redemption_out(r), "created": created}
    emit_json(out) if json_out else console.print(f"redemption {out['id']}: code {out['code']} "
                                                  f"({out['points']} points, until {out['expires_at']})")


@shop_app.command("confirm")
def shop_confirm(code: str = typer.Argument(...), actor: str = ActorOpt) -> None:
    """The shop handed the goods over: settle the code."""
    with session() as s:
        r = shop.confirm(s, code=code, actor=actor or audit.default_actor())
        console.print(f"redemption {r.id} {r.status}")


@shop_app.command("cancel")
def shop_cancel(redemption_id: int = typer.Argument(...), actor: str = ActorOpt) -> None:
    """Cancel a reserved redemption: the points and the item go back."""
    with session() as s:
        r = shop.cancel(s, redemption_id, actor=actor or audit.default_actor())
        console.print(f"redemption {r.id} {r.status}; {r.points} points returned")


@shop_app.command("settlement")
def shop_settlement(month: str = typer.Option(..., "--month", help="YYYY-MM"), json_out: bool = JsonOpt) -> None:
    """Per shop, the redemptions settled in the month."""
    with session() as s:
        rows = shop.settlement(s, month=month)
    if json_out:
        emit_json(rows)
        return
    t = Table(title=f"settlement {month}")
    for c in ("shop", "name", "redemptions", "points"):
        t.add_column(c)
    for r in rows:
        t.add_row(r["shop"], r["name"], str(r["redemptions"]), str(r["points"]))
    console.print(t)


@shop_app.command("demo")
def shop_demo(actor: str = ActorOpt) -> None:
    """Shops and offers for a demonstration store (safe to run twice)."""
    with session() as s:
        out = demo.seed(s, actor=actor or audit.default_actor())
    console.print(f"shops added: {', '.join(out['shops']) or 'none (already there)'}")


@shop_app.command("demo-redemptions")
def shop_demo_redemptions(actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """In a demonstration store, a dozen residents redeem; their shops settle most codes."""
    with session() as s:
        out = demo.redemptions(s, actor=actor or audit.default_actor())
    emit_json(out) if json_out else console.print(
        f"redemptions: {out['redeemed']} ({out['settled']} settled, {out['reserved']} reserved, "
        f"{out['closed']} cancelled or expired)")


# ------------------------------------------------------------------ boards
@app.command("board")
def board(region: str = typer.Option(None, "--region", help="Street or grid code (default: the first street)."),
          model: str = typer.Option(None, "--model"), kind: str = typer.Option(None, "--kind"),
          page: int = typer.Option(1, "--page", min=1), per_page: int = typer.Option(50, "--per-page", min=1, max=500),
          json_out: bool = JsonOpt) -> None:
    """A public board (公示牌): one ranking per model and subject kind, as the public sees it."""
    with session() as s:
        out = boards.board(s, region_code=region, model=model, kind=kind, page=page, per_page=per_page)
    if json_out:
        emit_json(out)
        return
    for tb in out["tables"]:
        console.print(f"  {tb['model']} {'/'.join(tb['model_label'])} · {'/'.join(tb['kind_label'])}: "
                      f"{tb['subjects']}")
    if out["table"] is None:
        console.print("no published evaluation here")
        return
    tb = out["table"]
    t = Table(title=f"{out['region']['name'] if out['region'] else ''} · {'/'.join(tb['model_label'])} · "
                    f"{'/'.join(tb['kind_label'])} — page {out['page']} of {out['pages']} ({out['total']})")
    for c in ("rank", "name", "credit code", "grid", "score", "grade", "band"):
        t.add_column(c)
    for r in out["rows"]:
        t.add_row(str(r["rank"]), r["name"], r["uscc"] or "", r["region"] or "", r["score"], r["grade"],
                  "/".join(x or "" for x in r["band_label"]))
    console.print(t)


@app.command("board-opt-in")
def board_opt_in(key: str = SubjectArg, withdraw: bool = typer.Option(False, "--withdraw"),
                 actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Record a resident's choice to appear (masked) on the public boards, or --withdraw it."""
    with session() as s:
        row = boards.set_opt_in(s, subject_id=_subject(s, key), opted_in=not withdraw,
                                actor=actor or audit.default_actor())
        out = {"subject_id": row.subject_id, "opted_in": row.opted_in}
    emit_json(out) if json_out else console.print(f"subject {out['subject_id']}: opted in = {out['opted_in']}")


@app.command("board-demo")
def board_demo(actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """In a demonstration store, every third resident opts in to the boards."""
    with session() as s:
        out = demo.board_opt_ins(s, actor=actor or audit.default_actor())
    emit_json(out) if json_out else console.print(f"residents opted in: {out['opted_in']}")


# ------------------------------------------------------------------ the credit-merchant selection
def _show_selection(out: dict, json_out: bool) -> None:
    if json_out:
        emit_json(out)
        return
    console.print(f"{out['code']} {out['title']}: {'/'.join(out['status_label'])}; public period "
                  f"{out['opened_on']} – {out['objection_until']}"
                  + (f"; decision {out['decision_no']} on {out['decided_on']}" if out["decision_no"] else ""))
    t = Table()
    for c in ("subject", "name", "origin", "model", "grade", "objections", "status"):
        t.add_column(c)
    for c in out["candidates"]:
        t.add_row(str(c["subject_id"]), c["name"], "/".join(c["origin_label"]), "/".join(c["model_label"]),
                  c["basis"].get("grade", ""), str(c["objections"]), "/".join(c["status_label"]))
    console.print(t)


@selection_app.command("open")
def selection_open(code: str = typer.Argument(...), title: str = typer.Option(..., "--title"),
                   actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Open a round: candidates from grades and clean records; the public period starts."""
    with session() as s:
        sel = merchants.open_selection(s, code=code, title=title, actor=actor or audit.default_actor())
        out = merchants.selection_out(s, sel, public=False)
    _show_selection(out, json_out)


@selection_app.command("show")
def selection_show(code: str = typer.Argument(...), json_out: bool = JsonOpt) -> None:
    """A round with its candidates, nominations and objections."""
    with session() as s:
        out = merchants.selection_out(s, merchants.get(s, code), public=False)
    _show_selection(out, json_out)


@selection_app.command("list")
def selection_list(json_out: bool = JsonOpt) -> None:
    with session() as s:
        out = [merchants.selection_out(s, sel) for sel in merchants.selections(s)]
    if json_out:
        emit_json(out)
        return
    for o in out:
        console.print(f"{o['code']}  {o['title']}  {'/'.join(o['status_label'])}  {len(o['candidates'])} candidates")


@selection_app.command("nominate")
def selection_nominate(code: str = typer.Argument(...), key: str = typer.Option(..., "--subject"),
                       text: str = typer.Option(..., "--text"), actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Nominate a subject in the public period (it must meet the criteria)."""
    with session() as s:
        c = merchants.nominate(s, code=code, subject_id=_subject(s, key), text=text,
                               actor=actor or audit.default_actor())
        out = {"candidate": c.id, "subject_id": c.subject_id}
    emit_json(out) if json_out else console.print(f"subject {out['subject_id']} nominated")


@selection_app.command("object")
def selection_object(code: str = typer.Argument(...), key: str = typer.Option(..., "--subject"),
                     text: str = typer.Option(..., "--text"), actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Object to a candidate in the public period."""
    with session() as s:
        o = merchants.object_to(s, code=code, subject_id=_subject(s, key), text=text,
                                actor=actor or audit.default_actor())
        out = {"objection": o.id}
    emit_json(out) if json_out else console.print(f"objection {out['objection']} filed")


@selection_app.command("decide")
def selection_decide(code: str = typer.Argument(...), decision_no: str = typer.Option(..., "--decision-no"),
                     reject: list[str] = typer.Option([], "--reject", help="SUBJECT_ID=reason; repeatable."),
                     actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """The credit office's decision after the public period: awards become credit records."""
    rejected: dict[int, str] = {}
    for item in reject:
        sid, sep, why = item.partition("=")
        if not sep or not sid.strip().isdigit():
            raise typer.BadParameter(f"--reject takes SUBJECT_ID=reason, not {item!r}")
        rejected[int(sid)] = why
    with session() as s:
        out = merchants.decide(s, code=code, decision_no=decision_no, reject=rejected,
                               actor=actor or audit.default_actor())
    emit_json(out) if json_out else console.print(
        f"{out['selection']} decided ({out['decision_no']}): {len(out['awarded'])} awarded, "
        f"{len(out['rejected'])} not awarded")
