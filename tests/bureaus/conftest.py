"""A store (SQLite and PostgreSQL, the shipped catalogue loaded) with firms and a
resident whose records cover every footing a record can go to a bureau on, or not:
consented, public by law, consent needed and absent, restricted, secret, unmarked,
no longer published, repaired. Exported files go to a folder of the test's own."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from creditgov.bureaus import service
from creditgov.core import clock, db
from creditgov.security.crypto import KeyRing
from creditgov.subjects.models import Subject
from tests.workflows.helpers import add_record, make_firm

# Markup, quotes, a comma, CR LF, characters some readers break lines at (NEL, LINE and
# PARAGRAPH SEPARATOR), a terminal escape, a right-to-left override and an emoji family.
HOSTILE = ('"><img src=x onerror=alert(2)> O\'Brien, "引号" \r\n第二行\u0085\u2028\u2029 \x1b[31m '
           '\u202e右到左\u202c 👩\u200d👩\u200d👧 {0} %s 公司')
RESIDENT_ID = "330522199001011234"
RECENT = dt.date(2026, 9, 1)


@dataclass
class World:
    url: str
    ring: KeyRing
    out: Path
    ids: dict[str, int] = field(default_factory=dict)    # subject by role
    records: dict[str, int] = field(default_factory=dict)  # record by label
    consent: int = 0


@pytest.fixture
def world(store: str, keyring: KeyRing, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    out = tmp_path / "bureau-out"
    monkeypatch.setenv("CREDITGOV_BUREAU_DIR", str(out))
    w = World(url=store, ring=keyring, out=out)
    with db.session_scope(store) as s:
        consented = make_firm(s, name=HOSTILE)
        other = make_firm(s, name="未授权企业")
        now = clock.now()
        person = Subject(kind="individual", name="张三" + HOSTILE[:20], status="confirmed", attributes={},
                         resident_id=keyring.encrypt(RESIDENT_ID), resident_id_index=keyring.blind_index(RESIDENT_ID),
                         resident_id_masked="330***********1234", created_at=now, updated_at=now)
        s.add(person)
        s.flush()
        w.ids = {"consented": consented.id, "other": other.id, "person": person.id}
        for label, subj, item, on in (
                ("a.penalty", consented, "market.penalty", RECENT),           # public by law
                ("a.arrears", consented, "social.arrears", RECENT),           # shared, consent
                ("a.grade", consented, "tax.credit_grade", RECENT),           # shared, consent
                ("a.utility", consented, "utility.arrears", RECENT),          # restricted: never
                ("a.police", consented, "police.case", RECENT),               # secret: never
                ("a.inspection", consented, "market.inspection_problem", RECENT),  # unmarked: never
                ("b.penalty", other, "market.penalty", RECENT),               # public by law
                ("b.arrears", other, "social.arrears", RECENT),               # consent needed, none
                ("b.warning", other, "market.penalty_minor", RECENT),         # not published: consent
                ("b.old", other, "environment.penalty", dt.date(2024, 1, 1)),  # publication ended
                ("b.repaired", other, "safety.penalty", RECENT),              # repaired: not in force
                ("c.lawsuit", person, "court.lawsuit", RECENT),               # shared, consent
                ("c.debtor", person, "court.dishonest_debtor", RECENT)):      # public by law
            rec = add_record(s, subj, item, published=on, text=HOSTILE if label == "a.arrears" else None)
            w.records[label] = rec.id
            if label == "b.repaired":
                rec.status = "repaired"
        s.flush()
        w.consent = service.grant_consent(s, subject_id=consented.id, bureau="pbc-crc", actor="test").id
        service.grant_consent(s, subject_id=person.id, bureau="pbc-crc", days=30, actor="test")
    return w
