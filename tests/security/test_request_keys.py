"""Request keys in the store (SQLite and PostgreSQL): a claim, the answer kept and given
back, the refusals, and the 24 hours — a key older than that is purged by the job (and
by claims now and then) and counts as gone for a claim."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from creditgov import bootstrap
from creditgov.core import clock
from creditgov.core.db import session_scope
from creditgov.core.errors import Conflict, InvalidInput
from creditgov.security import request_keys as keys
from creditgov.security.crypto import KeyRing, create_key_file
from creditgov.security.models import RequestKey

CALLER = keys.caller_of(bearer="cg_some-token")
ANSWER = keys.Answer(status=303, content_type="text/html; charset=utf-8", location="/complaints/7?done=filed",
                     body=b"\x00<b>O'Brien</b> \xe2\x80\xae")


@pytest.fixture
def ring(tmp_path: Path) -> KeyRing:
    return create_key_file(tmp_path / "keys.key")


def _claim(s, ring: KeyRing, key: str, *, at: dt.datetime | None = None, body: str = "b" * 64,
           path: str = "/api/v1/data-requests", same_body: bool = True) -> int | keys.Answer:
    return keys.claim(s, ring, caller=CALLER, key=key, method="POST", path=path, body_sha256=body,
                      same_body=same_body, now=at)


def test_a_claim_is_answered_once_kept(store: str, ring: KeyRing) -> None:
    with session_scope(store) as s:
        claim_id = _claim(s, ring, "k1")
    assert isinstance(claim_id, int)
    with session_scope(store) as s, pytest.raises(Conflict) as running:
        _claim(s, ring, "k1")
    assert running.value.code == "security.request.in_progress"
    with session_scope(store) as s:
        keys.finish(s, ring, claim_id, ANSWER)
    with session_scope(store) as s:
        assert _claim(s, ring, "k1") == ANSWER
        with pytest.raises(InvalidInput) as reused:
            _claim(s, ring, "k1", body="c" * 64)
        assert reused.value.code == "security.request.key_reused"
        with pytest.raises(InvalidInput):
            _claim(s, ring, "k1", path="/api/v1/users")
        # A page form is the same form whatever its fields say: only method and path count.
        assert _claim(s, ring, "k1", body="c" * 64, same_body=False) == ANSWER
        # Another caller's "k1" is another key.
        other = keys.claim(s, ring, caller=keys.caller_of(session_cookie="sess"), key="k1", method="POST",
                           path="/api/v1/data-requests", body_sha256="b" * 64)
        assert isinstance(other, int)
        kept = s.execute(select(RequestKey.answer).where(RequestKey.id == claim_id)).scalar_one()
        assert "O'Brien" not in kept and "/complaints/7" not in kept      # encrypted with the store's key
    with session_scope(store) as s:
        keys.release(s, claim_id)
    with session_scope(store) as s:
        assert isinstance(_claim(s, ring, "k1"), int)                    # given up: the copy runs


def test_a_claim_left_running_by_a_dead_process_is_taken_over_after_a_while(store: str, ring: KeyRing) -> None:
    """A server killed between the claim and its answer leaves a running claim: copies
    are told to wait while the first could still be working, then may claim it again."""
    start = clock.now()
    with session_scope(store) as s:
        first = keys.claim(s, ring, caller=CALLER, key="k9", method="POST", path="/api/v1/data-requests",
                           body_sha256="b" * 64, now=start)
    assert isinstance(first, int)
    with session_scope(store) as s, pytest.raises(Conflict):
        keys.claim(s, ring, caller=CALLER, key="k9", method="POST", path="/api/v1/data-requests",
                   body_sha256="b" * 64, now=start + keys.ABANDONED - dt.timedelta(seconds=1))
    with session_scope(store) as s:
        again = keys.claim(s, ring, caller=CALLER, key="k9", method="POST", path="/api/v1/data-requests",
                           body_sha256="b" * 64, now=start + keys.ABANDONED)
    assert isinstance(again, int)
    with session_scope(store) as s:  # a new claim, made now (SQLite may give it the old id)
        row = s.execute(select(RequestKey).where(RequestKey.key == "k9")).scalar_one()
        assert (row.created_at, row.state) == (start + keys.ABANDONED, keys.RUNNING)


def test_keys_are_checked_and_the_public_needs_a_long_one() -> None:
    bootstrap.wire()
    assert keys.check_key("a", caller=CALLER) == "a"
    assert keys.check_key("~" * 100, caller=CALLER) == "~" * 100
    for bad in ("", "two words", "x" * 101, "ключ", "tab\there"):
        with pytest.raises(InvalidInput) as refused:
            keys.check_key(bad, caller=CALLER)
        assert refused.value.code == "security.request.key_invalid"
    with pytest.raises(InvalidInput):
        keys.check_key("short-key", caller=keys.PUBLIC_CALLER)
    assert keys.check_key("0123456789abcdef", caller=keys.PUBLIC_CALLER)
    # Whose keys: never the credential itself, and one scope per credential.
    assert CALLER != keys.caller_of(bearer="cg_other") != keys.caller_of(session_cookie="cg_some-token")
    assert "cg_some-token" not in CALLER and len(CALLER) == 64


def test_keys_older_than_a_day_are_purged_and_count_as_gone(store: str, ring: KeyRing) -> None:
    now = clock.now()
    with session_scope(store) as s:
        old = _claim(s, ring, "old", at=now - dt.timedelta(hours=25))
        recent = _claim(s, ring, "recent", at=now - dt.timedelta(hours=23))
        assert isinstance(old, int) and isinstance(recent, int)
        keys.finish(s, ring, old, ANSWER)
        keys.finish(s, ring, recent, ANSWER)
    with session_scope(store) as s:
        # A day on, the same key is a new request: claimed again, not answered from the old.
        again = _claim(s, ring, "old", at=now)
        assert isinstance(again, int) and again != old
        assert _claim(s, ring, "recent", at=now) == ANSWER
        late = _claim(s, ring, "late", at=now - dt.timedelta(hours=30))
        assert isinstance(late, int)
    # The worker's job (as the composition root lists it) purges what is older than 24 hours.
    assert bootstrap.job("request_keys")(store) == {"purged": 1}
    with session_scope(store) as s:
        left = set(s.execute(select(RequestKey.key)).scalars())
        assert left == {"old", "recent"}
        assert keys.purge(s, now=now + dt.timedelta(hours=25)) == 2
    assert bootstrap.job("request_keys")(store) == {"purged": 0}
