"""The notice (告知书) in one language at a time (SQLite and PostgreSQL): the Chinese
document — the one sent and kept with the procedure step — names the list by its
Chinese name only; the English one by its English name, with the identifying unit's
English name. Hostile text in the facts is quoted as recorded."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from tests.lists.helpers import add_record, make_subject

from creditgov.core import db
from creditgov.lists import documents
from creditgov.lists import queries as list_queries
from creditgov.lists import service as lists
from creditgov.lists.models import ListEntryEvent

HOSTILE = "<b>有履行能力而拒不履行</b> “引号” \u202e😀 {0}"


def test_the_notice_names_the_list_in_its_own_language(county: str) -> None:
    with db.session_scope(county) as s:
        firm = make_subject(s, name="长兴示例制衣有限公司")
        rec = add_record(s, firm, "court.dishonest_debtor", occurred_on=dt.date(2026, 9, 1), department="court")
        rec.text = HOSTILE
        e = lists.propose(s, list_code="serious-dishonesty", subject_id=firm.id, criterion="court-dishonest-debtor",
                          record_id=rec.id)
        lists.notify(s, entry_id=e.id, actor="cli:root")
        d = list_queries.definition(s, e.list_code)
        doc = documents.notice(s, e, d)
        sent = s.execute(select(ListEntryEvent.note).where(ListEntryEvent.entry_id == e.id,
                                                           ListEntryEvent.step == "notify")).scalar_one()
    assert (d.name_zh, d.name_en) == ("严重失信主体名单", "Serious-dishonesty list")
    assert f"拟将您列入《{d.name_zh}》。" in sent and d.name_en not in sent  # what was sent: Chinese only
    assert sent == documents.notice_text(doc) and HOSTILE in sent
    en = documents.notice_text(doc, "en")
    assert f"you are to be placed on the {d.name_en}." in en and f"《{d.name_zh}》" not in en  # the basis quotes it
    assert f"Identifying unit: {doc['identifying_unit_en']}." in en and doc["identifying_unit_en"] == "People's Court"
    assert HOSTILE in en and "(5 working days)" in en
