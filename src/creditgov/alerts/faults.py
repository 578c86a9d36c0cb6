"""Crash points for the exactly-once tests.

Why in the product: the outbox's promise is about crashes at precise moments (after
the alert and its notifications are committed but before anything is sent; after a
channel accepted a message but before the outbox recorded it). A test can only
prove it by killing the worker at exactly those moments. `CREDITGOV_FAULT` names the
point (optionally `point:qualifier`, e.g. `channel.sent:sms`); unset, this is a
dictionary look-up that does nothing.
"""

from __future__ import annotations

import os
import signal

POINTS = ("outbox.committed", "channel.sent")


def crash_point(point: str, qualifier: str = "") -> None:
    want = os.environ.get("CREDITGOV_FAULT")
    if not want:
        return
    if want == point or (qualifier and want == f"{point}:{qualifier}"):
        os.kill(os.getpid(), signal.SIGKILL)
