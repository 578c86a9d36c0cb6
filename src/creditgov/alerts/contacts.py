"""The deployment's delivery settings: channels (which plugin, its settings, retries)
and the contact directory (departments, grid workers, banks, subjects, users).

Both are loaded from files an operator keeps; recipient resolution
(`recipients.py`) reads what they load.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from creditgov.alerts.models import ChannelConfig, Contact
from creditgov.alerts.schemas import ChannelsFile, ContactsFile
from creditgov.alerts.service import ensure_inbox_channel
from creditgov.core import clock
from creditgov.core.config import load_yaml_model
from creditgov.core.errors import ConfigError, InvalidInput, NotFound
from creditgov.security import service as audit
from creditgov.subjects.models import Subject
from creditgov.subjects.service import shown_key


def load_channels(session: Session, *, path: Path, actor: str | None = None) -> dict[str, Any]:
    """Upsert channels from a deployment file; plugins must be installed and their
    settings valid (each plugin validates its own)."""
    from creditgov.alerts.channels import plugin

    doc = load_yaml_model(ChannelsFile, path)
    for n, c in enumerate(doc.channels):
        try:
            plugin(c.plugin)(c.name, c.settings, db_url="sqlite://")  # validates the settings only
        except ConfigError as exc:
            raise ConfigError(f"{path}: channels[{n}]: {exc}") from None
    now = clock.now()
    for c in doc.channels:
        session.merge(ChannelConfig(name=c.name, plugin=c.plugin, settings=c.settings, enabled=c.enabled,
                                    max_attempts=c.max_attempts, backoff_seconds=c.backoff_seconds,
                                    backoff_cap_seconds=c.backoff_cap_seconds, loaded_at=now))
    ensure_inbox_channel(session)
    session.flush()
    audit.append(session, action="alerts.channels.load", actor=actor,
                 detail={"file": path.name, "channels": {c.name: c.plugin for c in doc.channels}})
    return {"channels": len(doc.channels)}


def _subject_id_of(session: Session, key: str) -> int:
    key = key.strip()
    if key.isdigit() and len(key) < 12:
        sid = session.execute(select(Subject.id).where(Subject.id == int(key))).scalar()
    else:
        sid = session.execute(select(Subject.id).where(Subject.uscc == key.upper())).scalar()
    if sid is None:
        raise NotFound(f"no subject {shown_key(key)!r} (give an id or a credit code)")
    return int(sid)


def load_contacts(session: Session, *, path: Path | None = None, contacts: ContactsFile | None = None,
                  actor: str | None = None) -> dict[str, int]:
    """Replace the contact directory with the file's (a directory is a whole, not a log)."""
    if contacts is None:
        if path is None:
            raise InvalidInput("give a contacts file")
        contacts = load_yaml_model(ContactsFile, path)
    rows: list[Contact] = []
    for n, c in enumerate(contacts.contacts):
        where = f"{path or 'contacts'}: contacts[{n}] ({c.kind} {c.key})"
        until = dt.date.fromisoformat(c.valid_until) if c.valid_until else None
        key = c.key
        if c.kind == "subject":
            try:
                key = str(_subject_id_of(session, c.key))
            except NotFound as exc:
                raise ConfigError(f"{where}: {exc}") from None
        base = {"kind": c.kind, "key": key, "name": c.name, "email": c.email, "phone": c.phone,
                "webhook_url": c.webhook_url, "valid_until": until, "active": True}
        if c.kind == "bank" and c.watch:
            for w in c.watch:
                try:
                    rows.append(Contact(**base, watch_subject_id=_subject_id_of(session, w)))
                except NotFound as exc:
                    raise ConfigError(f"{where}: watch: {exc}") from None
        else:
            rows.append(Contact(**base))
    session.execute(delete(Contact))
    session.add_all(rows)
    session.flush()
    session.info.pop("alerts.directory", None)
    by_kind: dict[str, int] = {}
    for r in rows:
        by_kind[r.kind] = by_kind.get(r.kind, 0) + 1
    audit.append(session, action="alerts.contacts.load", actor=actor, detail={"contacts": len(rows), **by_kind})
    return {"contacts": len(rows), **by_kind}
