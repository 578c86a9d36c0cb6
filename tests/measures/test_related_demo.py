"""The credit check warns about a related listed party on the demo county: a small
generated county (300 subjects) built as `make demo` builds its own (tests/web/plain_county.py),
where a few people represent more than one firm and the list criteria put firms on the
serious-dishonesty list."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from tests.web.plain_county import Demo, build

from creditgov.core import db
from creditgov.measures import service as measures


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    yield build(tmp_path_factory.mktemp("related-demo"), subjects=300)


# Firms whose legal representative or principal, today, also holds such a role in a firm
# on the serious-dishonesty list today.
_CANDIDATES = sa.text("""
SELECT DISTINCT a.firm_id, b.firm_id
FROM subject_links a
JOIN subject_links b ON b.person_id = a.person_id AND b.firm_id <> a.firm_id
JOIN list_entries e ON e.subject_id = b.firm_id
WHERE a.role IN ('legal_representative', 'principal') AND b.role IN ('legal_representative', 'principal')
  AND (a.until IS NULL OR a.until > :day) AND (b.until IS NULL OR b.until > :day)
  AND e.list_code = 'serious-dishonesty' AND e.status = 'published' AND e.published_on <= :day
  AND (e.expires_on IS NULL OR e.expires_on > :day)
  AND a.firm_id NOT IN (SELECT subject_id FROM list_entries WHERE list_code = 'serious-dishonesty')
ORDER BY a.firm_id, b.firm_id
""")


def test_the_demo_links_carry_their_dates(demo: Demo) -> None:
    with db.engine_for(demo.url).connect() as c:
        total, dated, ended = c.execute(sa.text(
            "SELECT count(*), count(since), count(until) FROM subject_links")).one()
        assert total > 100 and dated == total and 0 < ended < total
        assert c.execute(sa.text("SELECT count(*) FROM subject_links WHERE until <= since")).scalar() == 0


def test_a_check_on_the_demo_county_warns_about_a_related_listed_party(demo: Demo) -> None:
    with db.engine_for(demo.url).connect() as c:
        pairs = c.execute(_CANDIDATES, {"day": "2026-11-01"}).all()
    assert pairs, "the demo county should hold a firm whose representative also represents a listed firm"
    warned = []
    with db.session_scope(demo.url) as s:
        for firm, listed in pairs[:5]:
            r = measures.check(s, scenario="administrative-approval", subject_id=firm, actor="test").as_dict()
            hits = [w for w in r["related"] if w["party"]["id"] == listed and w["list"] == "serious-dishonesty"]
            warned += hits
            assert all(w["hops"] == 2 and "严重失信主体名单" in w["text_zh"] and "serious-dishonesty list" in w["text_en"]
                       for w in hits)
    assert warned, pairs[:5]
    assert "同时是" in warned[0]["text_zh"] and "is also the" in warned[0]["text_en"]

