"""The two list rules, each with its own name, pinned on the same cases:

- `lists.queries.listed_on(d)` — the history: was the subject on the list that day?
  An entry exited later still counts for the days before its exit (checks, patrols).
- `scoring.explain.standing_entry(e, d)` (and its relational twin
  `scoring.compile.standing_entries`) — what an evaluation counts: only entries that
  still stand (published, not exited), and had taken effect by the as-of date.

They differ exactly for an entry that has since exited, on a date before its exit."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import ibis
import pytest
import sqlalchemy as sa

from creditgov import bootstrap
from creditgov.lists.models import ListEntry
from creditgov.lists.queries import listed_on
from creditgov.scoring.compile import standing_entries
from creditgov.scoring.explain import ListRow, standing_entry

D = dt.date
# (status, published_on, expires_on, exited_on, the date asked) -> (listed_on, standing)
CASES: list[tuple[tuple[str, D | None, D | None, D | None, D], tuple[bool, bool]]] = [
    (("published", D(2026, 1, 1), None, None, D(2026, 6, 1)), (True, True)),
    (("exited", D(2026, 1, 1), None, D(2026, 3, 1), D(2026, 2, 1)), (True, False)),   # the difference
    (("exited", D(2026, 1, 1), None, D(2026, 3, 1), D(2026, 3, 1)), (False, False)),
    (("published", D(2026, 1, 1), D(2026, 5, 1), None, D(2026, 6, 1)), (False, False)),  # expired
    (("published", D(2026, 1, 1), D(2026, 5, 1), None, D(2026, 4, 30)), (True, True)),
    (("published", D(2026, 7, 1), None, None, D(2026, 6, 1)), (False, False)),  # not yet in effect
    (("approved", None, None, None, D(2026, 6, 1)), (False, False)),
    (("withdrawn", D(2026, 1, 1), None, None, D(2026, 6, 1)), (False, False)),
]


@pytest.fixture(scope="module")
def entries() -> sa.Engine:
    """The list entries of CASES in a real `list_entries` table (one row per case)."""
    bootstrap.metadata()
    eng = sa.create_engine("sqlite://")
    table: Any = ListEntry.__table__
    table.create(eng)
    with eng.begin() as conn:
        for i, ((status, pub, exp, exited, _on), _want) in enumerate(CASES, 1):
            conn.execute(table.insert().values(id=i, list_code="black", subject_id=i, status=status, origin="local",
                                               published_on=pub, expires_on=exp, exited_on=exited,
                                               created_at=dt.datetime(2026, 1, 1)))
    return eng


@pytest.mark.parametrize("i", range(1, len(CASES) + 1))
def test_listed_on_is_the_history(entries: sa.Engine, i: int) -> None:
    (_s, _p, _e, _x, on), (want, _standing) = CASES[i - 1]
    with entries.connect() as conn:
        got = conn.execute(sa.select(ListEntry.id).where(ListEntry.id == i, listed_on(on))).first() is not None
    assert got is want


@pytest.mark.parametrize("i", range(1, len(CASES) + 1))
def test_an_evaluation_counts_standing_entries_on_both_paths(i: int) -> None:
    (status, pub, exp, exited, on), (_listed, want) = CASES[i - 1]
    assert standing_entry(ListRow("black", status, pub, exp, exited), on) is want
    table = ibis.memtable({"list_code": ["black"], "subject_id": [1], "status": [status], "published_on": [pub],
                           "expires_on": [exp], "exited_on": [exited]},
                          schema={"list_code": "string", "subject_id": "int64", "status": "string",
                                  "published_on": "date", "expires_on": "date", "exited_on": "date"})
    expr = standing_entries(SimpleNamespace(as_of=on), SimpleNamespace(list_entries=table))  # type: ignore[arg-type]  # only the two attributes the filter reads
    assert (ibis.duckdb.connect().execute(expr).shape[0] == 1) is want
