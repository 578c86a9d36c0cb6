"""`creditgov code …`: issue and verify credit codes, the region's signing keys, the
trust list and the revocation lists. Thin: the rules are in the domain's services."""

from __future__ import annotations

import datetime as dt
import json
import urllib.request
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from creditgov.cli.common import (
    STATE,
    JsonOpt,
    console,
    emit_json,
    known,
    label,
    lang,
    save,
    session,
    when,
    writable,
)
from creditgov.codes import keys, qr, revocation, service, trust
from creditgov.codes.models import REVOKE_REASONS
from creditgov.core.errors import InvalidInput
from creditgov.security import service as audit
from creditgov.subjects import service as subject_service

app = typer.Typer(help="The credit code (信用码): issue, verify, keys, trust list, revocations.",
                  no_args_is_help=True)
trust_app = typer.Typer(help="The trust list: the keys a verifier accepts, signed by the province root.",
                        no_args_is_help=True)
app.add_typer(trust_app, name="trust")
ActorOpt = typer.Option(None, "--actor", help="Who acts (default: $CREDITGOV_ACTOR or cli:<user>).")


def _actor(actor: str | None) -> str:
    return actor or audit.default_actor()


def _read(source: str) -> str:
    """A document from a file or an http(s) URL."""
    if source.startswith(("http://", "https://")):
        with urllib.request.urlopen(source, timeout=30) as r:  # noqa: S310 - the scheme is checked just above
            return str(r.read(2_000_001).decode("utf-8"))
    try:
        return Path(source).read_text("utf-8")
    except OSError as exc:
        raise InvalidInput(f"cannot read {source}: {exc}") from None


def _word(kind: str, code: str | None) -> str:
    """A code a credit code states (a band, a colour) in `CREDITGOV_LANG`."""
    zh, en = service.labels()[kind].get(str(code), (code or "—", code or "—"))
    return en if lang() == "en" else zh


def _revoked(by_reason: dict[str, int]) -> str:
    return ", ".join(f"{label('code_revoke_reason', k)} {v}" for k, v in sorted(by_reason.items())) or "none"


def _write(doc: object, out: Path | None, json_out: bool) -> None:
    text = json.dumps(doc, ensure_ascii=False, indent=1)
    if out is not None:
        save(out, text + "\n")
        if json_out:
            emit_json({"written": str(out)})
        else:
            console.print(f"written to {out}")
    else:
        print(text)


@app.command("issue")
def issue(key: str = typer.Argument(..., help="Subject: id, credit code, ID number or exact name."),
          png: Path = typer.Option(None, "--png", help="Also write the code as a QR image here."),
          actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Issue a subject's credit code (signed with this region's active key)."""
    ring = STATE.keyring()
    writable(png, "--png")  # before a code is issued and audited
    with session() as s:
        subject_id = subject_service.resolve(s, ring, key).id
        out = service.issue(s, ring, subject_id=subject_id, actor=_actor(actor))
        if png is not None:
            save(png, qr.png(out.text), "--png")
    data = {"code": out.text, "code_id": out.code_id, "issued_at": out.issued_at.isoformat() + "Z",
            "expires_at": out.expires_at.isoformat() + "Z", "states": out.states}
    if json_out:
        emit_json(data)
        return
    console.print(f"code {out.code_id} valid until {when(out.expires_at)} "
                  f"(grade {out.states['g'] or '—'}, band {_word('band', out.states['b'])})", markup=False)
    print(out.text)


@app.command("verify")
def verify(text: str = typer.Argument(..., help="The code's text (CGV1:…), or an image file with its QR."),
           json_out: bool = JsonOpt) -> None:
    """Verify a code against this store's trust list and revocation lists only."""
    if not text.strip().startswith("CGV1:") and Path(text).is_file():
        text = qr.read_image(Path(text))
    with session() as s:
        out = service.verify(s, text)
    if json_out:
        emit_json(out)
        if not out["valid"]:
            raise typer.Exit(1)
        return
    console.print(f"[b]{out['status_zh']} / {out['status_en']}[/b]" + (f" — {out['why']}" if out.get("why") else ""))
    st = out["states"]
    if st:
        t = Table(show_header=False)
        for zh, en, value in (("主体类型", "kind", f"{st['kind_zh']} / {st['kind_en']}"), ("名称", "name", st["name"]),
                              ("代码/证件", "identifier", st["identifier"]), ("等级", "grade", st["grade"] or "—"),
                              ("档次", "band", f"{st['band_zh']} / {st['band_en']}"),
                              ("颜色", "colour", f"{st['colour_zh']} / {st['colour_en']}"),
                              ("评价模型", "model", st["model"] or "—"),
                              ("签发地区", "issuer", f"{st['issuer_name']} ({st['issuer']})"),
                              ("签发时间", "issued", st["issued_at"]), ("有效期至", "expires", st["expires_at"]),
                              ("码编号", "code id", st["code_id"])):
            t.add_row(f"{zh} / {en}", str(value))
        console.print(t)
    if not out["valid"]:
        raise typer.Exit(1)


@app.command("keys")
def keys_(json_out: bool = JsonOpt) -> None:
    """This region's signing keys (public halves; the private ones stay encrypted)."""
    with session() as s:
        out = keys.listing(s)
    if json_out:
        emit_json(out)
        return
    t = Table(title="signing keys")
    for c in ("kid", "issuer", "status", "created", "retired"):
        t.add_column(c)
    for k in out:
        t.add_row(str(k["kid"]), escape(f"{k['issuer_name']} ({k['issuer']})"), label("code_key_status", k["status"]),
                  when(k["created_at"]), when(k["retired_at"]) if k["retired_at"] else "")
    console.print(t)


@app.command("key-create")
def key_create(issuer: str = typer.Option(None, "--issuer", help="Region code (default: the store's top region)."),
               issuer_name: str = typer.Option(None, "--issuer-name", help="Region name."),
               actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Make this region's first signing key."""
    ring = STATE.keyring()
    with session() as s:
        row = keys.create(s, ring, actor=_actor(actor), issuer=issuer, issuer_name=issuer_name)
        out = {"kid": row.kid, "issuer": row.issuer, "issuer_name": row.issuer_name, "public_key": row.public_key}
    emit_json(out) if json_out else console.print(f"signing key {out['kid']} for {out['issuer_name']}")


@app.command("key-rotate")
def key_rotate(actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Retire the active key and make its successor; codes it signed stay valid."""
    ring = STATE.keyring()
    with session() as s:
        row = keys.rotate(s, ring, actor=_actor(actor))
        out = {"kid": row.kid, "issuer": row.issuer}
    emit_json(out) if json_out else console.print(f"active signing key is now {out['kid']}")


@app.command("root-create")
def root_create(path: Path = typer.Argument(..., help="Where to write the province root's private key."),
                json_out: bool = JsonOpt) -> None:
    """Make a province root key (kept by the province, outside any store). A path that
    is a folder, or in a folder that is missing or cannot be written, is refused before
    a key is made."""
    writable(path, "PATH")  # an existing file is then refused by root_create: never replaced
    pub = trust.root_create(path)
    emit_json({"root": pub, "path": str(path)}) if json_out else console.print(f"root public key: {pub}")


@trust_app.command("export")
def trust_export(root_key: Path = typer.Option(None, "--root-key", help="The province root key: sign a list."),
                 add: list[str] = typer.Option([], "--add", help="A region's key submission (file or URL)."),
                 out: Path = typer.Option(None, "--out", help="Write here instead of printing."),
                 actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Without --root-key: this region's public keys for the province. With it: the
    province's signed trust list of this store's keys and the submissions added."""
    root = trust.root_load(root_key) if root_key is not None else None
    writable(out)  # before the export is audited
    with session() as s:
        doc = trust.export(s, root_key=root, add=[_read(a) for a in add], actor=_actor(actor))
        _write(doc, out, json_out)


@trust_app.command("import")
def trust_import(source: str = typer.Argument(..., help="A signed trust list (file or URL)."),
                 root: str = typer.Option(None, "--root", help="The province root's public key (first import)."),
                 actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Verify a province-signed trust list and put its keys in force."""
    with session() as s:
        out = trust.import_list(s, _read(source), root=root, actor=_actor(actor))
    emit_json(out) if json_out else console.print(
        f"{out['keys']} keys of {', '.join(out['issuers'])} in force ({out['imported']} from other regions)")


@trust_app.command("show")
def trust_show(json_out: bool = JsonOpt) -> None:
    """The keys verification accepts now."""
    with session() as s:
        out = trust.entries(s)
    if json_out:
        emit_json(out)
        return
    t = Table(title="trust list")
    for c in ("kid", "issuer", "origin", "trusted until"):
        t.add_column(c)
    for e in out:
        until = dt.datetime.fromtimestamp(e["trust_until"], dt.UTC) if e["trust_until"] else None
        t.add_row(str(e["kid"]), escape(f"{e['issuer_name']} ({e['issuer']})"), label("code_key_origin", e["origin"]),
                  when(until) if until else "")
    console.print(t)


@app.command("revocations")
def revocations(import_: str = typer.Option(None, "--import", help="Another region's signed list (file or URL)."),
                out: Path = typer.Option(None, "--out", help="Write this region's signed list here."),
                actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Revoke outstanding codes whose subject dropped a grade, entered a list or was
    repaired, then publish this region's signed revocation list (or import another's)."""
    ring = STATE.keyring()
    writable(out)  # before codes are revoked and the list published
    with session() as s:
        if import_ is not None:
            got = revocation.import_list(s, _read(import_), actor=_actor(actor))
            emit_json(got) if json_out else console.print(f"{got['revoked']} revoked codes of {got['issuer']} held")
            return
        swept = revocation.sweep(s, actor=_actor(actor))
        doc = revocation.own_list(s, ring, actor=_actor(actor))
    if doc is None:
        raise InvalidInput("this region has no signing key yet: nothing issued, nothing to revoke")
    if out is None and not json_out:
        console.print(f"checked {swept['checked']} outstanding codes; revoked {_revoked(swept['revoked'])}",
                      markup=False)
    _write(doc, out, json_out) if out is not None or not json_out else emit_json({"swept": swept, "list": doc})


@app.command("revoke")
def revoke(code_id: str = typer.Argument(..., help="The code id (shown by verify)."),
           reason: str = typer.Option("manual", "--reason", help=f"One of {', '.join(REVOKE_REASONS)}."),
           actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Revoke one code now."""
    known(reason, REVOKE_REASONS, "--reason", "code_revoke_reason")
    with session() as s:
        row = revocation.revoke(s, code_id.strip().lower(), reason=reason, actor=_actor(actor))
        out = {"code_id": row.code_id, "reason": reason}
    emit_json(out) if json_out else console.print(f"code {out['code_id']} revoked "
                                                  f"({label('code_revoke_reason', reason)})", markup=False)
