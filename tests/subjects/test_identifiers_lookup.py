"""An 18-digit resident ID number can also pass the credit code's check character
(about one in 31 do); such a subject must still be found by its ID number."""

from __future__ import annotations

from stdnum.cn import ric

from creditgov.core import clock, db
from creditgov.measures import service as measures_service
from creditgov.subjects import search as subject_search
from creditgov.subjects import service as subject_service
from creditgov.subjects.identifiers import looks_like_resident_id, looks_like_uscc
from creditgov.subjects.models import Subject


def _ambiguous_ids() -> list[str]:
    out = []
    for n in range(1000):
        body = f"33010219850101{n:03d}"
        rid = next(body + c for c in "0123456789X" if ric.is_valid(body + c))
        if looks_like_uscc(rid) and looks_like_resident_id(rid):
            out.append(rid)
    return out


def test_an_id_number_that_also_passes_the_uscc_check_is_found(store, keyring) -> None:
    ambiguous = _ambiguous_ids()
    assert ambiguous, "the premise: some valid ID numbers also pass the USCC check"
    rid = ambiguous[0]
    with db.session_scope(store) as s:
        sid = subject_service.insert_subject(s, keyring, kind="individual", name="测试居民", uscc=None, resident_id=rid,
                                             status="confirmed", source="test", batch_id=None, now=clock.now())
    with db.session_scope(store) as s:
        assert subject_service.resolve(s, keyring, rid).id == sid
        found = subject_search.search(s, keyring, scope=Subject.id.is_not(None), q=rid)
        assert [i["id"] for i in found.items] == [sid]
        assert measures_service._subject_row(s, rid, keyring)[0] == sid
