"""`tests/concurrency.py`'s `at_once`, which the race tests lean on: the calls really
run together, their results come back in order, an expected refusal is returned and
any other error is raised (one as itself, several as a group)."""

from __future__ import annotations

import threading

import pytest

from tests.concurrency import at_once


def test_the_calls_run_together_and_answer_in_order() -> None:
    inside = threading.Barrier(5)

    def call(i: int) -> int:
        inside.wait(10)  # breaks, and fails the test, unless all five are running at once
        return i * i

    assert at_once(call, 5) == [0, 1, 4, 9, 16]


def test_an_expected_refusal_is_returned_and_anything_else_raised() -> None:
    def call(i: int) -> str:
        if i % 2:
            raise LookupError(f"refused {i}")
        return "done"

    out = at_once(call, 4, returning=(LookupError,))
    assert out[0::2] == ["done", "done"] and [str(e) for e in out[1::2]] == ["refused 1", "refused 3"]
    with pytest.raises(LookupError, match="refused 1"):
        at_once(call, 3)  # only the call numbered 1 raises
    with pytest.raises(ExceptionGroup) as group:
        at_once(call, 4)
    assert [str(e) for e in group.value.exceptions] == ["refused 1", "refused 3"]


def test_a_call_that_never_ends_fails_the_test() -> None:
    never = threading.Event()
    try:
        with pytest.raises(AssertionError, match="1 of 2 calls still running"):
            at_once(lambda i: never.wait(5) if i else None, 2, timeout=0.5)
    finally:
        never.set()
