"""`creditgov exchange …`: this installation's identity, peers, a cycle, status."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

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
    when,
    write_out,
)
from creditgov.core.errors import InvalidInput
from creditgov.exchange import access, channels, service, signing
from creditgov.exchange.models import ExchangePackage, ExchangePeer
from creditgov.exchange.schemas import PeerIn
from creditgov.security import service as audit

app = typer.Typer(help="The exchange (数据回流): signed packages to and from other platforms.", no_args_is_help=True)
peer_app = typer.Typer(help="Peers: the installation at the other end of a channel.", no_args_is_help=True)
app.add_typer(peer_app, name="peer")
ActorOpt = typer.Option(None, "--actor", help="Who acts (default: $CREDITGOV_ACTOR or cli:<user>).")


def _known_channel(s: Session, channel: str | None, option: str = "--channel") -> None:
    """A channel named on the command line is one of the channels file, or one a peer
    or a package still names; another is refused naming them (never an empty answer)."""
    if channel is None:
        return
    names = set(channels.describe()["channels"]) | set(s.scalars(select(ExchangePeer.channel)))
    known(channel, sorted(names | set(s.scalars(select(ExchangePackage.channel).distinct()))), option)


def _counts(by: dict[str, int]) -> str:
    """Packages by status, in words: "已应用 3, 待发送 1"."""
    return ", ".join(f"{label('exchange_status', k)} {v:,}" for k, v in sorted(by.items())) or "—"


@app.command("init")
def init(node: str = typer.Option(..., "--node", help="This installation's name on the exchange, e.g. anlan-county."),
         actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Name this installation and make its signing key (once); prints the public key."""
    ring = STATE.keyring()
    with session() as s:
        me = signing.create_identity(s, ring, node=node, actor=actor or audit.default_actor())
        out = {"node": me.node, "public_key": me.public_key}
    if json_out:
        emit_json(out)
        return
    console.print(f"{out['node']}: public key {out['public_key']}")


@app.command("identity")
def identity(json_out: bool = JsonOpt) -> None:
    """This installation's name and public key (give it to each peer)."""
    with session() as s:
        me = signing.identity(s)
        out = {"node": me.node, "public_key": me.public_key}
    if json_out:
        emit_json(out)
        return
    console.print(f"{out['node']}: public key {out['public_key']}")


@peer_app.command("add")
def peer_add(channel: str = typer.Argument(..., help="A channel of the channels file (upper, lower, …)."),
             node: str = typer.Argument(..., help="The peer's name on the exchange."),
             key: str = typer.Option(..., "--key", help="The peer's public key (`creditgov exchange identity`)."),
             http: str = typer.Option(None, "--http", help="The peer's base URL (HTTP push)."),
             folder: Path = typer.Option(None, "--folder", help="A drop folder shared with the peer."),
             backlog: bool = typer.Option(False, "--backlog", help="Also send what was recorded before now."),
             actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Bind a peer to a channel with its public key, reached by HTTP or a drop folder."""
    if (http is None) == (folder is None):
        raise InvalidInput("give exactly one of --http URL or --folder PATH")
    data = PeerIn(channel=channel, node=node, public_key=key, transport="http" if http else "folder",
                  address=http or str(Path(folder).resolve()), backlog=backlog)
    with session() as s:
        out = channels.peer_dict(channels.add_peer(s, data, actor=actor or audit.default_actor()))
    if json_out:
        emit_json(out)
        return
    console.print(f"channel {out['channel']}: peer {out['node']}, {label('exchange_transport', out['transport'])} "
                  f"at {out['address']}", markup=False, highlight=False)


@peer_app.command("set")
def peer_set(channel: str = typer.Argument(..., help="The channel whose peer changes."),
             http: str = typer.Option(None, "--http", help="Push to the peer at this base URL."),
             pull: str = typer.Option(None, "--pull", help="Let the peer fetch from us; its base URL."),
             folder: Path = typer.Option(None, "--folder", help="A drop folder shared with the peer."),
             actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Change how a channel's peer is reached (push, pull or a drop folder)."""
    given = [(t, a) for t, a in (("http", http), ("http-pull", pull), ("folder", folder)) if a is not None]
    if len(given) != 1:
        raise InvalidInput("give exactly one of --http URL, --pull URL or --folder PATH")
    transport, address = given[0]
    address = str(Path(address).resolve()) if transport == "folder" else str(address)
    with session() as s:
        out = channels.peer_dict(channels.set_transport(s, channel_name=channel, transport=transport, address=address,
                                                        actor=actor or audit.default_actor()))
    if json_out:
        emit_json(out)
        return
    console.print(f"channel {out['channel']}: peer {out['node']}, {label('exchange_transport', out['transport'])} "
                  f"at {out['address']}", markup=False, highlight=False)


@peer_app.command("list")
def peer_list(json_out: bool = JsonOpt) -> None:
    with session() as s:
        out = [channels.peer_dict(p) for p in channels.peers(s)]
    if json_out:
        emit_json(out)
        return
    t = Table(title="exchange peers")
    for c in ("channel", "node", "transport", "address", "next_seq"):
        t.add_column(c)
    for p in out:
        t.add_row(escape(p["channel"]), escape(p["node"]), label("exchange_transport", p["transport"]),
                  escape(p["address"]), str(p["next_seq"]))
    console.print(t)


@app.command("channels")
def channels_(json_out: bool = JsonOpt) -> None:
    """The channels file in force (shipped, or $CREDITGOV_EXCHANGE_CHANNELS), validated."""
    out = channels.describe()
    if json_out:
        emit_json(out)
        return
    console.print(f"channels {out['version']} ({out['source']}); records of classes "
                  f"{', '.join(label('data_class', c) for c in out['share_classes'])} travel",
                  markup=False, highlight=False)
    sep = "; " if lang() == "en" else "、"
    for name, c in out["channels"].items():
        console.print(f"  {name} ({label('exchange_channel_direction', c['direction'])}, queue {c['recipient']}): "
                      f"sends {sep.join(label('exchange_kind', k) for k in c['sends']) or '—'}; "
                      f"accepts {sep.join(label('exchange_kind', k) for k in c['accepts']) or '—'}",
                      markup=False, highlight=False)


@app.command("run")
def run(channel: str = typer.Option(None, "--channel", help="Only this channel."),
        force: bool = typer.Option(False, "--force", help="Send open packages now, whatever their back-off."),
        actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """One cycle: package what is owed, read drop folders, send what is due."""
    ring = STATE.keyring()
    with session() as s:
        _known_channel(s, channel)
    out = service.run(STATE.url, ring, actor=actor or audit.default_actor(), channel=channel, force=force)
    if json_out:
        emit_json(out)
        return
    for ch, r in out.items():
        console.print(f"{ch}: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in r.items()),
                      markup=False, highlight=False)


@app.command("status")
def status(json_out: bool = JsonOpt) -> None:
    """Every channel: its peer, packages by status, how far applied, the last error."""
    with session() as s:
        out = service.status(s)
    if json_out:
        emit_json(out)
        return
    t = Table(title="exchange channels")
    for c in ("channel", "peer", "transport", "sent (out)", "received (in)", "applied through", "last error"):
        t.add_column(c)
    for r in out:
        t.add_row(escape(r["channel"]), escape(r["peer"]), label("exchange_transport", r["transport"]),
                  _counts(r["out"]), _counts(r["in"]), str(r["applied_through"]), escape(r["last_error"] or ""))
    console.print(t)


@app.command("packages")
def packages(channel: str = typer.Option(None, "--channel"), direction: str = typer.Option(None, "--direction"),
             status_: str = typer.Option(None, "--status"), limit: int = typer.Option(50, min=1, max=1000),
             out_file: Path | None = OutOpt, json_out: bool = JsonOpt) -> None:
    """Packages, newest first (times in China Standard Time); `--out FILE` writes them as
    the exchange page's export does. A filter value that does not exist is refused,
    naming the known ones."""
    check_out(out_file)
    known(direction, access.DIRECTION, "--direction", "exchange_direction")
    known(status_, access.STATUS, "--status", "exchange_status")
    with session() as s:
        _known_channel(s, channel)
        found = service.packages(s, channel=channel, direction=direction, status=status_, limit=limit)
        out = [service.package_dict(p) for p in found]
        table = [access.package_row(p, lang()) for p in found] if out_file else []
    if out_file is not None:
        write_out(out_file, table="exchange", title="数据交换" if lang() == "zh" else "Exchange packages",
                  header=access.PACKAGE_HEADER[lang()], rows=table, json_out=json_out,
                  detail={"channel": channel, "direction": direction, "status": status_})
        return
    if json_out:
        emit_json(out)
        return
    t = Table(title="exchange packages")
    for c in ("id", "channel", "dir", "seq", "kinds", "items", "status", "attempts", "created"):
        t.add_column(c, no_wrap=c == "created")
    sep = "; " if lang() == "en" else "、"
    for p in out:
        t.add_row(str(p["id"]), escape(p["channel"]), label("exchange_direction", p["direction"]), str(p["seq"]),
                  sep.join(label("exchange_kind", k) for k in p["kinds"]), str(p["items"]),
                  label("exchange_status", p["status"]), str(p["attempts"]), when(p["created_at"]))
    console.print(t)


@app.command("retry")
def retry(channel: str = typer.Argument(...), actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Make a channel's open packages due now (after the peer is fixed)."""
    with session() as s:
        _known_channel(s, channel, "CHANNEL")
        n = service.retry_now(s, channel=channel, actor=actor or audit.default_actor())
    if json_out:
        emit_json({"channel": channel, "due": n})
        return
    console.print(f"{channel}: {n} packages due now")


@app.command("protect-facts")
def protect_facts(actor: str = ActorOpt, json_out: bool = JsonOpt) -> None:
    """Encrypt and mask resident ID numbers that received facts stored before this
    version still hold in clear (run once after upgrading; a second run finds nothing)."""
    from creditgov.exchange import apply

    with session() as s:
        n = apply.protect_stored(s, STATE.keyring(), actor=actor or audit.default_actor())
    if json_out:
        emit_json({"rewritten": n})
        return
    console.print(f"{n} received facts rewritten")
