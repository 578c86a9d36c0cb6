"""Leaving a list: by a list's exit conditions (manual, expiry, repair), by the lapse
of its publication period, when the record an entry rests on is repaired, and — before
publication — when the criterion a proposal rests on no longer holds (`withdraw_lapsed`).

Split out of `service.py` (the entry procedure); every exit goes through the same step
machinery there, so it appends a `ListEntryEvent` and an audit entry and the entry and
its history stay.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.core import clock
from creditgov.core.errors import InvalidInput
from creditgov.lists import recheck
from creditgov.lists.models import EXIT_KINDS, OPEN_STATUSES, ListEntry
from creditgov.lists.queries import definition
from creditgov.lists.service import PENDING, lock_entry, record_step, require_local
from creditgov.security import service as audit

# The reason an entry whose publication period ended exits with (kept as written; a page
# says it in its language: the workflows' `say_reason`).
EXPIRY_REASON = "publication period ended"


def exit_entry(session: Session, *, entry_id: int, kind: str, reason: str,
               actor: str | None = None) -> ListEntry:
    """Take a published entry off its list. The kind must be one of the list's exit
    conditions; the entry and its history stay."""
    actor = actor or audit.default_actor()
    entry = lock_entry(session, entry_id)
    if kind not in EXIT_KINDS:
        raise InvalidInput(f"unknown exit kind {kind!r}; one of {list(EXIT_KINDS)}")
    if entry.origin == "upper" and kind != "upper":
        require_local(entry, "taken off")
    if entry.status != "published":
        raise InvalidInput(f"entry {entry_id} is {entry.status}; only a published entry can exit")
    d = definition(session, entry.list_code)
    allowed = {e.kind for e in d.exit_conditions}
    if kind not in allowed and not (kind == "upper" and entry.origin == "upper"):
        raise InvalidInput(f"list {entry.list_code} has no exit by {kind}; its exit conditions are {sorted(allowed)}",
                           code="lists.exit.not_allowed",
                           params={"entry": entry_id, "list": entry.list_code, "kind": kind})
    if not reason.strip():
        raise InvalidInput("an exit needs a reason")
    today = clock.today()
    if kind == "expiry":
        if entry.expires_on is None or entry.expires_on > today:
            raise InvalidInput(f"entry {entry_id} does not expire until {entry.expires_on}")
        entry.exited_on = entry.expires_on
    else:
        entry.exited_on = today
    entry.exit_kind, entry.exit_reason = kind, reason.strip()
    record_step(session, entry, "exit", "exited", actor=actor, note=reason.strip(), on=entry.exited_on,
                detail={"kind": kind})
    return entry


def expire(session: Session, *, actor: str | None = None) -> list[int]:
    """Exit every published entry whose publication period has ended."""
    today = clock.today()
    ids = list(session.execute(select(ListEntry.id).where(
        ListEntry.status == "published", ListEntry.expires_on.is_not(None),
        ListEntry.expires_on <= today).order_by(ListEntry.id)).scalars())
    for i in ids:
        exit_entry(session, entry_id=i, kind="expiry", reason=EXPIRY_REASON, actor=actor)
    return ids


def exit_for_record(session: Session, *, record_id: int, reason: str, kind: str = "repair",
                    actor: str | None = None) -> dict[str, list[int]]:
    """Entries that rest on one record leave when that record is repaired (or revoked,
    with kind 'manual'): published entries exit, pending ones are withdrawn. The repair
    procedure calls this; it is the only way a repair reaches the lists."""
    actor = actor or audit.default_actor()
    rows = list(session.execute(select(ListEntry).where(
        ListEntry.record_id == record_id, ListEntry.origin == "local",
        ListEntry.status.in_(OPEN_STATUSES)).order_by(ListEntry.id)).scalars())
    out: dict[str, list[int]] = {"exited": [], "withdrawn": []}
    for e in rows:
        if e.status == "published":
            exit_entry(session, entry_id=e.id, kind=kind, reason=reason, actor=actor)
            out["exited"].append(e.id)
        else:
            e.exit_reason = reason
            record_step(session, e, "withdraw", "withdrawn", actor=actor, note=reason, detail={"record": record_id})
            out["withdrawn"].append(e.id)
    return out


# What a withdrawal for a lapsed criterion says before what changed (kept as written).
LAPSED_REASON = "拟列入依据已不成立："


def withdraw_lapsed(session: Session, *, entry_id: int, actor: str | None = None,
                    found: recheck.Lapse | None = None) -> ListEntry:
    """Withdraw a pending proposal whose criterion no longer holds for its subject today
    (`recheck.lapse`), the reason saying what changed (a restricted record by its
    department only: the entry's history is read widely). A proposal whose criterion
    still holds is refused: not listing it then is the identifying unit's decision
    (`service.reject`)."""
    actor = actor or audit.default_actor()
    entry = lock_entry(session, entry_id)
    require_local(entry, "withdrawn")
    if entry.status not in PENDING:
        raise InvalidInput(f"entry {entry_id} is {entry.status}; only a pending proposal can be withdrawn",
                           code="lists.entry.not_pending", params={"entry": entry_id, "status": entry.status})
    found = found or recheck.lapse(session, entry)
    if found is None:
        raise InvalidInput(f"entry {entry_id}: the criterion it was proposed under still holds; not listing it is "
                           "the identifying unit's decision (`creditgov lists reject`)",
                           code="lists.entry.criterion_holds", params={"entry": entry_id})
    reason = LAPSED_REASON + found.words("zh", name_item=False)
    entry.exit_reason = reason
    record_step(session, entry, "withdraw", "withdrawn", actor=actor, note=reason,
                detail={"criterion": found.criterion, "lapse": found.why,
                        **{k: v for k, v in found.facts.items() if k in ("record", "item", "on", "grade", "run_on")}})
    return entry


def withdraw_all_lapsed(session: Session, *, list_code: str | None = None,
                        actor: str | None = None) -> list[recheck.Lapse]:
    """Withdraw every pending proposal whose criterion no longer holds today (`lists run`)."""
    lapses = recheck.pending_with_lapses(session, list_code=list_code)
    for found in lapses:
        withdraw_lapsed(session, entry_id=found.entry_id, actor=actor, found=found)
    return lapses
