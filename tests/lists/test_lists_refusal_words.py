"""The refusals of the lists a page shows (an entry's page, a repair or an objection
decision that takes entries off their lists) in the reader's language, from the label
catalogue: the list and the exit said by their names, never by their codes."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.lists.helpers import add_record, make_subject

from creditgov import bootstrap
from creditgov.core import clock, db
from creditgov.core.errors import InvalidInput, NotFound
from creditgov.lists import exits as list_exits
from creditgov.lists import queries as list_queries
from creditgov.lists.models import ListEntry
from creditgov.web import i18n


def test_an_exit_the_list_does_not_allow_names_the_list_and_the_exit(county_sqlite: str) -> None:
    bootstrap.wire()
    with db.session_scope(county_sqlite) as s:
        firm = make_subject(s)
        rec = add_record(s, firm, "civility.honour", occurred_on=dt.date(2026, 3, 1), department="civility")
        entry = ListEntry(list_code="red", subject_id=firm.id, status="published", origin="local", record_id=rec.id,
                          published_on=dt.date(2026, 4, 1), created_at=clock.now())
        s.add(entry)
        s.flush()
        # the red list has no exit by credit repair: the repair's exit is refused
        with pytest.raises(InvalidInput, match="has no exit by repair") as exc:
            list_exits.exit_for_record(s, record_id=rec.id, reason="record repaired", kind="repair", actor="t")
        n = entry.id
    assert i18n.refusal(exc.value, "zh") == f"名单条目 #{n} 所在的“守信激励对象名单（红名单）”不能以“信用修复”方式移出。"
    assert i18n.refusal(exc.value, "en") == f"“Red list (honest subjects)” does not allow the exit “Credit repair” (entry #{n})."


def test_an_entry_that_is_not_there(county_sqlite: str) -> None:
    bootstrap.wire()
    with db.session_scope(county_sqlite) as s, pytest.raises(NotFound, match="list entry 987654 not found") as exc:
        list_queries.entry_detail(s, 987654)
    assert i18n.refusal(exc.value, "zh") == "找不到名单条目 #987654。"
    assert i18n.refusal(exc.value, "en") == "List entry #987654 was not found."
