"""What a run of batches shares and what a batch did: `Lookups`, read once per run and
kept current as rows arrive (the catalogue, data requests, regions, the subjects by
identifier), and `Counts`, a batch's outcome; the batch writer (writer.py) uses both.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from creditgov.catalog import service as catalog_service
from creditgov.catalog.models import CatalogItem
from creditgov.core import clock
from creditgov.ingest.reasons import split_column
from creditgov.ingest.values import NEVER_NEGATIVE
from creditgov.security.crypto import KeyRing
from creditgov.subjects import changes as subject_changes
from creditgov.subjects import service as subject_service
from creditgov.subjects.models import Subject


def keyed(rows: Sequence[Row[tuple[str | None, int]]]) -> Sequence[tuple[str, int]]:
    """(key, subject id) rows from a nullable key column (credit code, blind index) whose
    query cannot give a NULL key (`is_not(None)`, `in_` non-empty keys), typed as such."""
    return cast("Sequence[tuple[str, int]]", rows)


@dataclass
class Lookups:
    """What every row needs, read once per run and kept current as rows arrive."""

    today: dt.date
    keyring: KeyRing
    items: dict[str, CatalogItem]
    requests: dict[tuple[str, str], str]
    regions: dict[str, int]
    by_uscc: dict[str, int]
    by_index: dict[str, int]
    # Identifiers of subjects merged into another (subjects.changes): their rows go to the
    # survivor (the dictionaries above map them there) and their registrations change nothing.
    merged_keys: frozenset[str] = frozenset()
    # Items whose values are never below zero (their value kind is in values.NEVER_NEGATIVE).
    never_negative: frozenset[str] = frozenset()

    @classmethod
    def load(cls, session: Session, keyring: KeyRing) -> Lookups:
        items = {i.code: i for i in catalog_service.items(session)}
        for i in items.values():
            session.expunge(i)
        by_uscc = dict(keyed(session.execute(
            select(Subject.uscc, Subject.id).where(Subject.uscc.is_not(None))).all()))
        by_index = dict(keyed(session.execute(
            select(Subject.resident_id_index, Subject.id).where(Subject.resident_id_index.is_not(None))).all()))
        merged = subject_changes.merged_into(session)
        keys: set[str] = set()
        for d in (by_uscc, by_index):
            for k, sid in d.items():
                if sid in merged:
                    d[k] = merged[sid]
                    keys.add(k)
        return cls(
            today=clock.today(),
            keyring=keyring,
            items=items,
            requests=catalog_service.request_status(session),
            regions=subject_service.region_ids(session),
            by_uscc=by_uscc,
            by_index=by_index,
            merged_keys=frozenset(keys),
            never_negative=frozenset(c for c, i in items.items() if i.value_kind in NEVER_NEGATIVE),
        )

    def subject_id(self, kind: str, code: str) -> int | None:
        if kind == "uscc":
            return self.by_uscc.get(code)
        return self.by_index.get(self.keyring.blind_index(code))


@dataclass
class Counts:
    read: int = 0
    accepted: int = 0
    corrected: int = 0
    rejected: int = 0
    duplicates: int = 0
    filtered: int = 0
    reasons: Counter[str] = field(default_factory=Counter)

    def add(self, other: Counts) -> None:
        for k in ("read", "accepted", "corrected", "rejected", "duplicates", "filtered"):
            setattr(self, k, getattr(self, k) + getattr(other, k))
        self.reasons.update(other.reasons)

    def as_dict(self) -> dict[str, Any]:
        return {"read": self.read, "accepted": self.accepted, "corrected": self.corrected,
                "rejected": self.rejected, "duplicates": self.duplicates, "filtered": self.filtered}


_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|\d+")


def _reason_kind(reason: str) -> str:
    """A reason without its particulars, for the summary: the column it names, quoted
    values and numbers go."""
    reason = split_column(reason)[0]
    return _QUOTED.sub("…", reason.split(":")[0] if "(" not in reason.split(":")[0] else reason)[:90]
