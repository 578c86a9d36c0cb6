"""API routes of the exchange. Thin: the rules are in `exchange.service`,
`exchange.apply` and `exchange.channels`.

`POST /exchange/inbox` is how a peer installation pushes a package: it carries no
token; the package's Ed25519 signature, checked against the key bound to the sending
peer, is its authentication (401 otherwise). The answer is the receiver's signed
acknowledgement."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Query, Request
from sqlalchemy import func, select

from creditgov.api.deps import DB, Id, keyring, require
from creditgov.core.errors import NotFound
from creditgov.exchange import channels, service
from creditgov.exchange.models import ExchangeIdentity, ExchangePackage, PackageSubject
from creditgov.exchange.schemas import PeerIn
from creditgov.security import service as audit
from creditgov.security.crypto import KeyRing
from creditgov.security.scopes import Grant

router = APIRouter(tags=["exchange"])
Read = Annotated[Grant, Depends(require("exchange.read"))]
Manage = Annotated[Grant, Depends(require("exchange.manage"))]
Ring = Annotated[KeyRing, Depends(keyring)]
Status = Query(pattern="^(pending|delivered|acknowledged|held|applied)$")


@router.post("/exchange/inbox", operation_id="exchange_inbox")
def exchange_inbox(session: DB, ring: Ring, envelope: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    """A package from a peer: verified, applied once and in order; answers the ack."""
    return service.receive_http(session, ring, envelope)


@router.get("/exchange/feed", operation_id="exchange_feed")
def exchange_feed(session: DB, ring: Ring, after: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
                  limit: Annotated[int, Query(ge=1, le=200)] = 50,
                  node: Annotated[str, Header(alias="x-exchange-node", max_length=60)] = "",
                  at: Annotated[str, Header(alias="x-exchange-time", max_length=40)] = "",
                  signature: Annotated[str, Header(alias="x-exchange-signature", max_length=200)] = ""
                  ) -> dict[str, Any]:
    """HTTP pull: a peer fetches its channel's packages after `after`. The request is
    authenticated by the peer's signature over its node, `after` and the time."""
    return {"packages": service.feed(session, ring, node=node, after=after, at=at, signature=signature,
                                     limit=limit)}


@router.post("/exchange/acks", operation_id="exchange_ack")
def exchange_ack(session: DB, ack: Annotated[dict[str, Any], Body()]) -> dict[str, int]:
    """A pulling peer's signed acknowledgement."""
    return {"acknowledged": service.ack_http(session, ack)}


@router.get("/exchange/status", operation_id="exchange_status")
def exchange_status(grant: Read, session: DB) -> list[dict[str, Any]]:
    """Every channel: its peer, packages by direction and status, how far applied."""
    return service.status(session)


@router.get("/exchange/identity", operation_id="exchange_identity")
def exchange_identity(grant: Read, session: DB) -> dict[str, str | None]:
    """This installation's name and public key (what a peer binds with `peer add`);
    both null before `creditgov exchange init`."""
    me = session.execute(select(ExchangeIdentity).limit(1)).scalar_one_or_none()
    return {"node": me.node if me else None, "public_key": me.public_key if me else None}


@router.get("/exchange/packages", operation_id="exchange_packages")
def exchange_packages(grant: Read, session: DB, channel: Annotated[str | None, Query(max_length=40)] = None,
                      direction: Annotated[str | None, Query(pattern="^(in|out)$")] = None,
                      status: Annotated[str | None, Status] = None,
                      limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[dict[str, Any]]:
    """Packages, newest first."""
    return [service.package_dict(p) for p in service.packages(session, channel=channel, direction=direction,
                                                                  status=status, limit=limit)]


@router.get("/exchange/packages/{package_id}", operation_id="exchange_package")
def exchange_package(package_id: Id, grant: Read, session: DB) -> dict[str, Any]:
    """One package and the number of subjects whose data it carried."""
    p = session.get(ExchangePackage, package_id)
    if p is None:
        raise NotFound(f"package {package_id} not found")
    n = session.execute(select(func.count()).select_from(PackageSubject)
                        .where(PackageSubject.package_id == p.id)).scalar_one()
    return {**service.package_dict(p), "subjects": int(n)}


@router.get("/exchange/peers", operation_id="exchange_peers")
def exchange_peers(grant: Read, session: DB) -> list[dict[str, Any]]:
    return [channels.peer_dict(p) for p in channels.peers(session)]


@router.post("/exchange/peers", status_code=201, operation_id="exchange_peer_add")
def exchange_peer_add(grant: Manage, session: DB, body: PeerIn) -> dict[str, Any]:
    """Bind a peer installation to a channel with its public key."""
    return channels.peer_dict(channels.add_peer(session, body, actor=grant.principal.actor))


@router.post("/exchange/run", operation_id="exchange_run")
def exchange_run(grant: Manage, request: Request, ring: Ring,
                 channel: Annotated[str | None, Query(max_length=40)] = None,
                 force: bool = False) -> dict[str, Any]:
    """One exchange cycle now (the worker runs it every minute)."""
    url = request.app.state.ctx.url
    out = service.run(url, ring, actor=grant.principal.actor, channel=channel, force=force)
    from creditgov.core import db

    with db.session_scope(url) as s:
        audit.append(s, action="exchange.run", actor=grant.principal.actor, detail={"channels": sorted(out)})
    return out
