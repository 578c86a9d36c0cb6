"""The audit chain: intact verifies, an edited or deleted row is caught and named."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import delete, select, text, update

from creditgov.core.db import session_scope
from creditgov.security import service as audit
from creditgov.security.models import AuditEntry


def _fill(url: str, n: int = 5) -> list[int]:
    with session_scope(url) as s:
        return [audit.append(s, action="test.event", actor="tester", subject_id=i, purpose="unit",
                             detail={"i": i}).id for i in range(n)]


def test_intact_chain_verifies(store) -> None:
    _fill(store)
    with session_scope(store) as s:
        r = audit.verify(s)
    assert r.ok and r.checked == 6  # the catalogue load plus five


HOSTILE = ["<script>alert('x')</script>", 'quote " and \\ backslash', "换行\n制表\t回车\r", "\u0001\u001f控制",
           "emoji 🧧𠀋 and RTL \u202e", "长" * 5000]


def test_hostile_text_from_concurrent_writers_verifies(store) -> None:
    """Appends from several writers at once, with markup, quotes, control characters,
    characters beyond the BMP and a very long text, each hashed where it is written
    (PostgreSQL: inside the database), verify in Python and keep their text."""
    def writer(w: int) -> list[int]:
        out = []
        for i in range(15):
            with session_scope(store) as s:
                text_ = HOSTILE[(w + i) % len(HOSTILE)]
                out.append(audit.append(s, action="test.hostile", actor=f"写入者{w}\"'", subject_id=i,
                                        purpose=text_[:200], detail={"text": text_, "n": i}).id)
        return out

    with ThreadPoolExecutor(4) as pool:
        ids = [i for chunk in pool.map(writer, range(4)) for i in chunk]
    with session_scope(store) as s:
        r = audit.verify(s)
        kept = {e.id: json.loads(e.detail)["text"] for e in s.execute(select(AuditEntry).where(AuditEntry.id.in_(ids)))
                .scalars()}
    assert r.ok and r.checked == 61, r
    assert sorted(set(kept.values())) == sorted(HOSTILE)


def test_edited_entry_breaks_the_chain_at_that_entry(store) -> None:
    ids = _fill(store)
    with session_scope(store) as s:
        s.execute(update(AuditEntry).where(AuditEntry.id == ids[2]).values(purpose="something else"))
    with session_scope(store) as s:
        r = audit.verify(s)
    assert not r.ok and r.broken_id == ids[2] and "edited" in r.reason


def test_deleted_entry_breaks_the_chain_after_it(store) -> None:
    ids = _fill(store)
    with session_scope(store) as s:
        s.execute(delete(AuditEntry).where(AuditEntry.id == ids[1]))
    with session_scope(store) as s:
        r = audit.verify(s)
    assert not r.ok and r.broken_id == ids[2]


def test_rehashing_an_edit_still_breaks_the_link(store) -> None:
    ids = _fill(store)
    with session_scope(store) as s:
        e = s.get(AuditEntry, ids[2])
        e.actor = "forger"
        e.hash = audit._digest(e.prev_hash, e.at, e.actor, e.action, e.subject_id, e.purpose, e.detail)
    with session_scope(store) as s:
        r = audit.verify(s)
    assert not r.ok and r.broken_id == ids[3]


def test_cli_verify_exit_codes(cli, tmp_path) -> None:
    assert cli("init").exit_code == 0
    ok = cli("audit", "verify")
    assert ok.exit_code == 0 and "intact" in ok.output
    with session_scope(f"sqlite:///{cli.work / 'creditgov.db'}") as s:
        first = s.execute(select(AuditEntry.id).order_by(AuditEntry.id)).scalars().first()
        s.execute(text("UPDATE audit_entries SET detail = '{}' WHERE id = :i"), {"i": first})
    bad = cli("audit", "verify")
    assert bad.exit_code == 1
    assert f"broken at entry {first}" in bad.output
