"""Who a recipient spec reaches: the directory (regions, contacts, channels; loaded
once per transaction) and the resolution of specs such as `{who: grid_worker}` into
targets — a principal on a channel at an address.

`raise_alert` and `notify` (`service.py`) queue one outbox row per target.
"""

from __future__ import annotations

import datetime as dt
import re
import string
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.alerts.models import ChannelConfig, Contact
from creditgov.alerts.schemas import Recipient
from creditgov.core import clock, labels
from creditgov.security.labels import actor_label
from creditgov.subjects.models import Region, Subject, SubjectLink

GRID_LEVEL = "grid"


def channel_configs(session: Session) -> dict[str, ChannelConfig]:
    return {c.name: c for c in session.execute(select(ChannelConfig)).scalars()}


# ----------------------------------------------------------------------------- recipients


@dataclass(frozen=True)
class Target:
    """One delivery: a principal (whose inbox, whose phone) on one channel at one address."""

    principal: str
    channel: str
    address: str | None


@dataclass
class Directory:
    """What recipient resolution reads, loaded once per transaction (small tables)."""

    region_paths: dict[int, list[str]]
    region_level: dict[str, str]
    contacts: dict[tuple[str, str], list[Contact]]
    bank_watch: dict[int, list[Contact]]
    channels: dict[str, ChannelConfig]
    today: dt.date

    @classmethod
    def load(cls, session: Session) -> Directory:
        paths: dict[int, list[str]] = {}
        level: dict[str, str] = {}
        for rid, code, lvl, path in session.execute(select(Region.id, Region.code, Region.level, Region.path)):
            paths[rid] = [c for c in path.strip("/").split("/") if c]
            level[code] = lvl
        contacts: dict[tuple[str, str], list[Contact]] = {}
        watch: dict[int, list[Contact]] = {}
        for c in session.execute(select(Contact).where(Contact.active.is_(True)).order_by(Contact.id)).scalars():
            session.expunge(c)
            if c.watch_subject_id is not None:
                watch.setdefault(c.watch_subject_id, []).append(c)
            else:
                contacts.setdefault((c.kind, c.key), []).append(c)
        chans = channel_configs(session)
        for cfg in chans.values():
            session.expunge(cfg)
        return cls(paths, level, contacts, watch, chans, clock.today())

    def grid_of(self, region_id: int | None) -> tuple[str | None, list[Contact]]:
        """The subject's grid principal and its workers: the nearest region (from the
        cell upwards) that has grid-worker contacts; else the `grid`-level ancestor."""
        chain = self.region_paths.get(region_id or -1, [])
        for code in reversed(chain):
            found = self.contacts.get(("grid_worker", code))
            if found:
                return code, found
        for code in reversed(chain):
            if self.region_level.get(code) == GRID_LEVEL:
                return code, []
        return (chain[-1], []) if chain else (None, [])


def directory(session: Session) -> Directory:
    d = session.info.get("alerts.directory")
    if d is None:
        d = Directory.load(session)
        session.info["alerts.directory"] = d
    return d


def _valid(c: Contact, today: dt.date) -> bool:
    return c.valid_until is None or c.valid_until >= today


def _principals(session: Session, d: Directory, r: Recipient, subject: Subject | None,
                department: str | None) -> list[tuple[str, list[Contact]]]:
    """A recipient spec to (principal, contacts) pairs."""
    if r.who == "grid_worker":
        if subject is None:
            return []
        code, workers = d.grid_of(subject.region_id)
        return [(f"grid:{code}", workers)] if code else []
    if r.who == "department":
        code = r.code or department
        return [(f"department:{code}", d.contacts.get(("department", code), []))] if code else []
    if r.who == "bank":
        if subject is None:
            return []
        return [(f"bank:{c.key}", [c]) for c in d.bank_watch.get(subject.id, []) if _valid(c, d.today)]
    if r.who == "subject":
        if subject is None:
            return []
        return [(f"subject:{subject.id}", d.contacts.get(("subject", str(subject.id)), []))]
    if r.who == "principal":
        if subject is None:
            return []
        if subject.resident_id_index is not None:
            people = [subject.id]
        else:
            people = []
            for role in ("principal", "legal_representative"):
                people = list(session.execute(select(SubjectLink.person_id).where(
                    SubjectLink.firm_id == subject.id, SubjectLink.role == role).order_by(SubjectLink.person_id)
                ).scalars())
                if people:
                    break
        return [(f"subject:{p}", d.contacts.get(("subject", str(p)), [])) for p in people]
    if r.who == "user":
        return [(f"user:{r.code}", d.contacts.get(("user", str(r.code)), []))]
    # principal_id: an explicit principal such as "department:credit"
    kind, _, key = str(r.code).partition(":")
    return [(str(r.code), d.contacts.get((kind, key), []))]


# ----------------------------------------------------------------------------- notes in words

# The notes `resolve_targets` leaves on an alert's event (who or which channel could not be
# reached) are stored as written below, in English: they are the event's record. A page
# or an answer says each known shape in Chinese and English (`say_note`); `{x:kind}` is
# the label of that part, as a refusal's wording has it (core.labels.say).
_Q = r"['\"](?P<channel>[^'\"]*)['\"]"
NOTE_SHAPES: tuple[tuple[re.Pattern[str], str, str], ...] = tuple((re.compile(rx), zh, en) for rx, zh, en in (
    (rf"^channel {_Q} is not configured$", "通知渠道“{channel:channel}”未配置或未启用",
     "Channel “{channel:channel}” is not configured or not enabled"),
    (rf"^channel {_Q}: plugin ['\"](?P<plugin>[^'\"]*)['\"] is not installed$",
     "通知渠道“{channel:channel}”的发送插件 {plugin} 未安装",
     "The plug-in {plugin} of channel “{channel:channel}” is not installed"),
    (rf"^(?P<who>\S+): no (?P<field>\w+) for channel {_Q}$",
     "{who:alert_principal}没有登记“{channel:channel}”渠道的{field:contact_field}",
     "{who:alert_principal} has no {field:contact_field} for channel “{channel:channel}”"),
    (r"^no (?P<kind>\w+) to notify(?: \((?P<code>.*)\))?$", "没有可通知的{kind:recipient_kind}{code}",
     "No {kind:recipient_kind} to notify{code}"),
))
CONTACT_FIELDS = {"phone": ("手机号码", "phone number"), "email": ("电子邮箱", "e-mail address"),
                  "webhook_url": ("推送地址", "webhook address")}
RECIPIENT_KINDS = {"grid_worker": ("网格员", "grid worker"), "department": ("部门", "department"),
                   "bank": ("银行", "bank"), "principal": ("负责人", "principal"), "subject": ("主体", "subject"),
                   "user": ("用户", "user"), "principal_id": ("收件人", "recipient")}


def _principal(address: str, lang: str, subjects: dict[int, str] | None = None) -> str:
    """An inbox principal (`grid:<region>`, `department:<code>`, `bank:<code>`,
    `user:<name>` …) in words. A bank is named by its registered name (finance's
    `finance_banks`, through the label catalogue's `organisation` names), else by its
    code after the word for a bank. A subject by its name as the reader sees it
    (`subjects`: already masked as the reader masks people, `words.subject_names`), else
    — no reader to mask for, or a subject no longer kept — by its number."""
    kind, _sep, key = address.partition(":")
    en = int(lang == "en")
    if kind == "grid":
        return ("网格 ", "grid ")[en] + labels.label("region", key, lang)
    if kind == "department":
        return labels.label("department", key, lang)
    if kind == "subject":
        named = (subjects or {}).get(int(key)) if key.isdigit() else None
        return named or ("主体 #", "subject #")[en] + key
    if kind == "bank":
        name = labels.label("organisation", key, lang)
        return name if name and name != key else ("银行 ", "bank ")[en] + key
    return actor_label(address, lang)


class _Say(string.Formatter):
    def __init__(self, lang: str, subjects: dict[int, str] | None = None) -> None:
        self.lang = lang
        self.subjects = subjects

    def format_field(self, value: Any, format_spec: str) -> str:
        en = int(self.lang == "en")
        if format_spec == "alert_principal":
            return _principal(str(value), self.lang, self.subjects)
        if format_spec == "contact_field":
            return CONTACT_FIELDS.get(str(value), (str(value), str(value)))[en]
        if format_spec == "recipient_kind":
            return RECIPIENT_KINDS.get(str(value), (str(value), str(value)))[en]
        return labels.label(format_spec, value, self.lang) if format_spec else str(value)


def say_note(note: str, lang: str = "zh", *, subjects: dict[int, str] | None = None) -> str:
    """A stored note in `lang` when its shape is known (`NOTE_SHAPES`), else as stored.
    A subject it names is named from `subjects` (as the reader sees them), else by number."""
    for rx, zh, en in NOTE_SHAPES:
        m = rx.match(note or "")
        if m:
            parts = {k: v or "" for k, v in m.groupdict().items()}
            if "code" in parts and parts["code"]:
                parts["code"] = f"（{parts['code']}）" if lang == "zh" else f" ({parts['code']})"
            return _Say(lang, subjects).format(en if lang == "en" else zh, **parts)
    return note


def note_subjects(notes: Iterable[str]) -> set[int]:
    """The subjects whose inboxes notes name (`subject:<id>: no phone …`), for the edge
    to name them as its reader sees them."""
    out = set()
    for n in notes or ():
        for rx, _zh, _en in NOTE_SHAPES:
            m = rx.match(n or "")
            if m is not None:
                kind, _sep, key = (m.groupdict().get("who") or "").partition(":")
                if kind == "subject" and key.isdigit():
                    out.add(int(key))
                break
    return out


def notes_said(notes: Iterable[str], *, subjects: dict[int, str] | None = None) -> dict[str, list[str]]:
    """An event's notes in both languages, for a page to pick its own; the subjects they
    name from `subjects` (`words.subject_names`: masked as the reader masks people)."""
    kept = list(notes or ())
    return {lang: [say_note(n, lang, subjects=subjects) for n in kept] for lang in labels.LANGS}


def resolve_targets(session: Session, recipients: Iterable[Recipient], *, subject_id: int | None,
                    department: str | None = None) -> tuple[list[Target], list[str]]:
    """(targets, notes): every (principal, channel, address) to notify, without
    repeats, and a note for each recipient or channel that could not be reached."""
    d = directory(session)
    subject = session.get(Subject, subject_id) if subject_id is not None else None
    from creditgov.alerts.channels import plugins

    installed = plugins()
    out: list[Target] = []
    seen: set[Target] = set()
    notes: list[str] = []
    for r in recipients:
        pairs = _principals(session, d, r, subject, department)
        if not pairs:
            notes.append(f"no {r.who} to notify" + (f" ({r.code})" if r.code else ""))
        for principal, contacts in pairs:
            for ch in r.channels:
                cfg = d.channels.get(ch)
                if cfg is None or not cfg.enabled:
                    notes.append(f"channel {ch!r} is not configured")
                    continue
                cls = installed.get(cfg.plugin)
                if cls is None:
                    notes.append(f"channel {ch!r}: plugin {cfg.plugin!r} is not installed")
                    continue
                field_ = cls.address_field
                if field_ is None:
                    targets = [Target(principal, ch, None)]
                else:
                    targets = [Target(principal, ch, getattr(c, field_)) for c in contacts if getattr(c, field_)]
                    if not targets and not (field_ == "webhook_url" and cfg.settings.get("url")):
                        notes.append(f"{principal}: no {field_} for channel {ch!r}")
                    elif not targets:
                        targets = [Target(principal, ch, None)]
                for t in targets:
                    if t not in seen:
                        seen.add(t)
                        out.append(t)
    return out, notes
