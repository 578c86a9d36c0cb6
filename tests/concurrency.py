"""Calls released at the same instant, for the tests that prove copies of one request
sent together act once: request keys and form keys, complaints, fund claims and
deposits, redemptions, decisions, commitments' verifications, segment refreshes.

`at_once(fn, n)` runs `fn(0)` … `fn(n - 1)`, each in a thread of its own, held at a
barrier until all of them are running and then let go together; it answers their
results in index order. A refusal the test expects (`returning=(Conflict,)`) takes its
call's place in the list, for the test to count; anything else a call raises is raised
in the test once every thread has ended, so a crash is never counted as a lost race."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
_PENDING: Any = object()


def at_once(fn: Callable[[int], T], n: int, *, returning: tuple[type[BaseException], ...] = (),
            timeout: float = 120.0) -> list[Any]:
    """The results of `fn(i)` for i in 0 … n - 1, the calls started together.

    An exception whose class is in `returning` is that call's result. Any other is raised
    here after every call has ended: itself when one call raised, an ExceptionGroup of
    them all (in index order) when several did. A call still running `timeout` seconds
    after the start fails the test (its thread is a daemon, so the run still ends)."""
    if n < 1:
        raise ValueError("at_once needs at least one call")
    gate = threading.Barrier(n)
    results: list[Any] = [_PENDING] * n
    raised: dict[int, BaseException] = {}

    def run(i: int) -> None:
        try:
            gate.wait(timeout)
            results[i] = fn(i)
        except BaseException as exc:  # kept for the test: returned or raised below
            if isinstance(exc, returning):
                results[i] = exc
            else:
                raised[i] = exc

    threads = [threading.Thread(target=run, args=(i,), name=f"at-once-{i}", daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    running = [t.name for t in threads if t.is_alive()]
    if running:
        raise AssertionError(f"{len(running)} of {n} calls still running after {timeout:g} s: {running}")
    if len(raised) == 1:
        raise next(iter(raised.values()))
    if raised:  # an ExceptionGroup when every one is an Exception
        raise BaseExceptionGroup(f"{len(raised)} of {n} calls raised", [raised[i] for i in sorted(raised)])
    return results
