"""`creditgov finance …`: banks, products, needs, matching, consents, applications,
loans, repayments, post-loan monitoring, the risk-compensation fund, statistics and the
demonstration data. Thin: every rule is in the domain's services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import typer
from rich.table import Table
from sqlalchemy import select

from creditgov.cli.common import STATE, JsonOpt, console, emit_json, lang, session, writable_folder
from creditgov.core import labels
from creditgov.core.amounts import yuan
from creditgov.core.config import load_yaml_model
from creditgov.finance import access, book, demo, files, fund, loans, matching, service, stats
from creditgov.finance.models import Bank, Loan
from creditgov.finance.policy import load_policy
from creditgov.finance.schemas import BankIn, DecisionIn, NeedIn, ProductIn, RepaymentIn, StatusIn
from creditgov.security import service as audit
from creditgov.subjects import service as subject_service

app = typer.Typer(help="信易贷 credit-based lending: banks, products, needs, matching, loans, the fund.",
                  no_args_is_help=True)
ActorOpt = typer.Option(None, "--actor", help="Who acts (default: $CREDITGOV_ACTOR or cli:<user>).")
BankOpt = typer.Option(..., "--bank", help="The bank's code.")


def _actor(actor: str | None) -> str:
    return actor or audit.default_actor()


def _out(data: Any, json_out: bool, text: str) -> None:
    emit_json(data) if json_out else console.print(text)


@app.command("bank-add")
def bank_add(code: str, name: str, actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Add a bank; its officers are bank_officer users whose organisation is CODE."""
    with session() as s:
        b = service.add_bank(s, BankIn(code=code, name=name), actor=_actor(actor))
        out = {"id": b.id, "code": b.code}
    _out(out, json_out, f"bank {out['code']} added")


@app.command("product-add")
def product_add(file: Path = typer.Argument(..., help="A YAML file of the product and its criteria."),
                bank: str = BankOpt, actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """A draft product of the bank (then `product-submit`, then the office approves)."""
    data = load_yaml_model(ProductIn, file)
    with session() as s:
        b = service.bank_by_code(s, bank)
        out = access.product_dict(service.add_product(s, bank=b, data=data, actor=_actor(actor)), b)
    _out(out, json_out, f"product {out['id']} ({out['code']}) drafted")


@app.command("product-submit")
def product_submit(product_id: int, bank: str = BankOpt, actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    with session() as s:
        b = service.bank_by_code(s, bank)
        out = access.product_dict(service.submit_product(s, bank=b, product_id=product_id, actor=_actor(actor)), b)
    _out(out, json_out, f"product {product_id} submitted for approval")


@app.command("product-decide")
def product_decide(product_id: int, reject: bool = typer.Option(False, "--reject"),
                   note: str = typer.Option(None, "--note"), actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """The credit office approves (or --reject --note …) a submitted product."""
    with session() as s:
        p = service.decide_product(s, product_id=product_id, approve=not reject, note=note, actor=_actor(actor))
        if p.status == "approved":
            matching.recompute(s, product_ids=[p.id], actor=_actor(actor))
        out = access.product_dict(p)
    _out(out, json_out, f"product {product_id} {out['status']}")


@app.command("products")
def products(status: str = typer.Option(None, "--status"), json_out: bool = JsonOpt) -> None:
    with session() as s:
        rows = access.products(s, status=status)
    if json_out:
        emit_json(rows)
        return
    t = Table(title="loan products / 贷款产品")
    for c in ("id", "bank", "code", "name", "kinds", "amount", "term", "rate %", "status"):
        t.add_column(c)
    for r in rows:
        t.add_row(str(r["id"]), r["bank"], r["code"], r["name"], ",".join(r["kinds"]),
                  f"{yuan(r['amount_min'], fen=False)}–{yuan(r['amount_max'], fen=False)}", f"{r['term_min']}–{r['term_max']}",
                  f"{r['rate_min']}–{r['rate_max']}", f"{r['status_label']['zh']} / {r['status_label']['en']}")
    console.print(t)


@app.command("need-post")
def need_post(key: str = typer.Argument(..., help="Subject: id, credit code or exact name."),
              amount: str = typer.Option(..., "--amount"), term: int = typer.Option(..., "--term"),
              purpose: str = typer.Option(..., "--purpose"), contact: str = typer.Option(..., "--contact"),
              phone: str = typer.Option(..., "--phone"), collateral: bool = typer.Option(False, "--collateral"),
              actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Post a financing need for a firm, merchant or homestay (its own window)."""
    data = NeedIn(amount=Decimal(amount), term_months=term, purpose=purpose, contact_name=contact,
                  contact_phone=phone, collateral=collateral)
    with session() as s:
        sid = subject_service.resolve(s, STATE.keyring(), key).id
        n, created = service.post_need_once(s, STATE.keyring(), subject_id=sid, data=data, actor=_actor(actor))
        if created:
            matching.recompute(s, need_ids=[n.id], actor=_actor(actor))
        out = {**access.need_dict(n), "created": created, "matches": len(access.matches_for_need(s, n.id))}
    _out(out, json_out, f"need {out['id']} " + ("posted" if created else "already posted and open (nothing added)")
         + f"; {out['matches']} product(s) matched")


@app.command("match")
def match(json_out: bool = JsonOpt) -> None:
    """Recompute every match (the worker does it when an input changed)."""
    with session() as s:
        out = matching.recompute(s)
    _out(out, json_out, f"{out['needs']} needs × {out['products']} products: {out['eligible']} eligible, "
                        f"{out['kept']} kept, {out['seconds']} s")


@app.command("matches")
def matches(need_id: int, json_out: bool = JsonOpt) -> None:
    """A need's matched products, each criterion with its rule and how close."""
    with session() as s:
        rows = access.matches_for_need(s, need_id)
    if json_out:
        emit_json(rows)
        return
    for r in rows:
        p = r["product"]
        mark = "[green]eligible / 符合[/green]" if r["eligible"] else f"[yellow]{r['fails']} fail(s) / 不符合[/yellow]"
        console.print(f"product {p['id']} {p['name']} ({p['bank']}): {mark}  score {r['score']}")
        for x in r["reasons"]:
            console.print(f"  {'✓' if x['holds'] else '✗'} {x['rule_zh']} / {x['rule']} {x['gap_text']}")


@app.command("consent-grant")
def consent_grant(need_id: int, bank: str = BankOpt, days: int = typer.Option(None, "--days"),
                  actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """At the subject's request: one bank reads its file for one need, for a time (while
    a consent for the pair is in force, that one answers and no second is made)."""
    with session() as s:
        nc, created = service.grant_consent_once(s, need_id=need_id, subject_id=None, bank_code=bank, days=days,
                                                 actor=_actor(actor))
        out = {"consent_id": nc.consent_id, "need_id": need_id, "bank": bank, "created": created}
    _out(out, json_out, f"consent {out['consent_id']} " + ("given" if created else "already in force")
         + f" to {bank} for need {need_id}")


@app.command("consent-revoke")
def consent_revoke(consent_id: int, actor: str = ActorOpt) -> None:
    with session() as s:
        service.revoke_consent(s, consent_id=consent_id, subject_id=None, actor=_actor(actor))
    console.print(f"consent {consent_id} revoked")


@app.command("apply")
def apply(need_id: int, product_id: int, actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    with session() as s:
        out = access.application_dict(loans.apply(s, need_id=need_id, product_id=product_id, subject_id=None,
                                                  actor=_actor(actor)))
    _out(out, json_out, f"application {out['id']} submitted")


@app.command("decide")
def decide(application_id: int, bank: str = BankOpt, amount: str = typer.Option(None, "--amount"),
           rate: str = typer.Option(None, "--rate"), term: int = typer.Option(None, "--term"),
           decline: str = typer.Option(None, "--decline", help="A decline reason code of the policy."),
           note: str = typer.Option(None, "--note"), actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """The bank approves (--amount --rate --term) or declines (--decline CODE)."""
    data = DecisionIn(approve=decline is None, amount=Decimal(amount) if amount else None,
                      rate=Decimal(rate) if rate else None, term_months=term, decline_code=decline, note=note)
    with session() as s:
        b = service.bank_by_code(s, bank)
        a, loan = loans.decide(s, bank=b, application_id=application_id, data=data, actor=_actor(actor))
        out = {**access.application_dict(a), "loan": loans.loan_dict(loan, b) if loan else None}
    _out(out, json_out, f"application {application_id} {out['status']}"
                        + (f": loan {out['loan']['id']}" if out["loan"] else ""))


@app.command("repay")
def repay(loan_id: int, bank: str = BankOpt, ref: str = typer.Option(..., "--ref"),
          on: str = typer.Option(..., "--on"), amount: str = typer.Option(..., "--amount"),
          actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    data = RepaymentIn(ref=ref, paid_on=dt.date.fromisoformat(on), amount=Decimal(amount))
    with session() as s:
        r, created = loans.repay(s, bank=service.bank_by_code(s, bank), loan_id=loan_id, data=data, source="cli",
                                 actor=_actor(actor))
        out = {"repayment": r.id, "created": created}
    _out(out, json_out, f"repayment {out['repayment']}" + ("" if created else " (already reported)"))


def _load(file: Path, kind: str, bank: str, actor: str | None, json_out: bool) -> None:
    STATE.require_init()
    result = files.load_file(STATE.url, STATE.keyring(), file, kind=kind, bank_code=bank, actor=_actor(actor))
    c = result.counts
    out = {**result.as_dict(), "rows": c.read, "added": c.accepted}
    _out(out, json_out, f"{c.read} rows: {c.accepted} applied, {c.duplicates} already there, {c.rejected} "
                        f"quarantined" + "".join(f"\n  {n} × {why}" for why, n in c.reasons.most_common()))


@app.command("repayments-load")
def repayments_load(file: Path, bank: str = BankOpt, actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """A bank's repayment file (CSV, UTF-8: loan_id, ref, paid_on, amount) through the
    bank's ingestion spec: a refused row is quarantined with its reason, the rest
    applied; the same file twice changes nothing the second time."""
    _load(file, "repayments", bank, actor, json_out)


@app.command("overdue-load")
def overdue_load(file: Path, bank: str = BankOpt, actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """A bank's overdue file (CSV, UTF-8: loan_id, reported_on, overdue_days, outstanding) through
    the bank's ingestion spec, as `repayments-load`."""
    _load(file, "overdue", bank, actor, json_out)


@app.command("bank-spec")
def bank_spec(kind: str = typer.Argument(..., help="repayments or overdue"), bank: str = BankOpt,
              out: Path = typer.Option(..., "--out", help="The ingestion folder to write the spec into.")) -> None:
    """Write the bank's ingestion spec for its files into a folder (specs/ and data/):
    put the bank's files in data/ and run `creditgov ingest run FOLDER`."""
    writable_folder(out)
    with session() as s:
        service.bank_by_code(s, bank)
    console.print(str(files.write_folder(out, kind=kind, bank_code=bank)))


@app.command("status")
def status(loan_id: int, bank: str = BankOpt, on: str = typer.Option(..., "--on"),
           overdue_days: int = typer.Option(..., "--overdue-days"), actor: str = ActorOpt,
           json_out: bool = JsonOpt) -> None:
    """The bank reports a loan's overdue days (past the policy's threshold: default)."""
    with session() as s:
        b = service.bank_by_code(s, bank)
        loan = loans.report_status(s, bank=b, loan_id=loan_id,
                                   data=StatusIn(on=dt.date.fromisoformat(on), overdue_days=overdue_days),
                                   actor=_actor(actor))
        out = loans.loan_dict(loan, b)
    _out(out, json_out, f"loan {loan_id} {labels.label('finance_status', out['status'], lang())}")


@app.command("loans")
def loan_book(json_out: bool = JsonOpt) -> None:
    with session() as s:
        rows = [loans.loan_dict(x, b) for x, b in s.execute(select(Loan, Bank).join(Bank, Bank.id == Loan.bank_id)
                                                             .order_by(Loan.id))]
    if json_out:
        emit_json(rows)
        return
    t = Table(title="loan book / 贷款台账")
    for c in ("id", "bank", "subject", "principal", "outstanding", "status", "grade", "band"):
        t.add_column(c)
    for r in rows:
        t.add_row(str(r["id"]), r["bank_name"], str(r["subject_id"]), yuan(r["principal"]), yuan(r["outstanding"]),
                  f"{r['status_label']['label_zh']} / {r['status_label']['label_en']}", r["grade"] or "",
                  labels.label("finance_band", r["band"]))
    console.print(t)


@app.command("export-records")
def export_records(out: Path = typer.Argument(..., help="A folder to write; then `creditgov ingest` it."),
                   actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """The loan book as an ingestion folder: loans (finance.loan) and overdue loans
    (finance.overdue) become credit records through `creditgov ingest OUT`."""
    writable_folder(out, "OUT")
    with session() as s:
        res = book.export(s, out, actor=_actor(actor))
    _out(res, json_out, f"{res['loans']} loans, {res['overdue']} overdue → {out}; now `creditgov ingest {out}`")


@app.command("monitor")
def monitor(json_out: bool = JsonOpt) -> None:
    """Post-loan monitoring: warn lenders of their borrowers' new adverse facts."""
    with session() as s:
        out = loans.monitor(s)
    _out(out, json_out, f"{out['loans']} unpaid loans: {out['raised']} warnings raised")


@app.command("fund-deposit")
def fund_deposit(amount: str, ref: str = typer.Option(..., "--ref", help="The allocation document's or the "
                                                       "transfer's number: the same again adds nothing."),
                 note: str = typer.Option(..., "--note"), actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Money into the risk-compensation fund, once per reference."""
    with session() as s:
        entry, created = fund.deposit(s, amount=Decimal(amount), ref=ref, note=note, actor=_actor(actor))
        out = fund.deposit_dict(s, entry, created)
    _out(out, json_out, ("deposit" if created else "deposit already recorded (nothing added):")
         + f" {out['ref']} {yuan(out['amount'])}; fund balance {yuan(out['balance'])}")


@app.command("fund-claim")
def fund_claim(loan_id: int, bank: str = BankOpt, actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    with session() as s:
        out = fund.claim_dict(fund.claim(s, bank=service.bank_by_code(s, bank), loan_id=loan_id,
                                         actor=_actor(actor)))
    _out(out, json_out, f"claim {out['id']}: {yuan(out['amount'])} on loan {loan_id}")


@app.command("fund-review")
def fund_review(claim_id: int, reject: bool = typer.Option(False, "--reject"), note: str = typer.Option(None, "--note"),
                actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    with session() as s:
        out = fund.claim_dict(fund.review(s, claim_id=claim_id, approve=not reject, note=note, actor=_actor(actor)))
    _out(out, json_out, f"claim {claim_id} {out['status']}")


@app.command("fund-pay")
def fund_pay(claim_id: int, actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    with session() as s:
        out = fund.claim_dict(fund.pay(s, claim_id=claim_id, actor=_actor(actor)))
    _out(out, json_out, f"claim {claim_id} paid: {yuan(out['amount'])}")


@app.command("fund")
def fund_show(json_out: bool = JsonOpt) -> None:
    with session() as s:
        out = fund.ledger(s)
    _out(out, json_out, f"fund balance {yuan(out['balance'])} ({len(out['entries'])} ledger entries)")


@app.command("stats")
def statistics(model: str = typer.Option(None, "--model"), json_out: bool = JsonOpt) -> None:
    """Loans, principal and default rates by grade and band at grant."""
    with session() as s:
        out = stats.by_grade(s, model=model)
    if json_out:
        emit_json(out)
        return
    t = Table(title="loans by band / 按信用档次")
    for c in ("band", "loans", "principal", "defaults", "default rate"):
        t.add_column(c)
    for r in out["by_band"]:
        t.add_row(f"{labels.label('finance_band', r['band'])} / {labels.label('finance_band', r['band'], 'en')}",
                  str(r["loans"]), r["principal"], str(r["defaults"]),
                  "-" if r["default_rate"] is None else f"{100 * r['default_rate']:.1f}%")
    console.print(t)


@app.command("policy-load")
def policy_load(file: Path, actor: str = ActorOpt) -> None:
    """Put a changed finance policy (fund, decline reasons, consent days) in force."""
    with session() as s:
        out = load_policy(s, path=file, actor=_actor(actor))
    console.print(f"finance policy {out['version']} in force")


@app.command("demo")
def demo_cmd(actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Two banks with products, needs from firms and homestays, matches, loans with one
    default and one fund claim (safe to run twice)."""
    with session() as s:
        out = demo.seed(s, STATE.keyring(), actor=_actor(actor))
    _out(out, json_out, ", ".join(f"{k}: {v}" for k, v in out.items()))
