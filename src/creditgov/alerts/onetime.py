"""One-time codes by SMS to a subject's registered phone.

Another domain that must reach the person behind a subject with a short-lived code
(the points counter's second factor) asks through a seam wired in the composition
root, so it needs nothing of alerts but this function. The phone is the subject's
entry in the contact directory the office keeps (`alerts contacts load`), never a
number typed at the counter, and the message goes through the outbox and the
deployment's SMS channel plugin like every other notice."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy.orm import Session

from creditgov.alerts.recipients import directory
from creditgov.alerts.service import notify
from creditgov.core import clock

#: A notice's payload flag: its body holds a one-time code, kept only until it leaves the
#: outbox (sent or given up); the outbox then blanks every run of digits (`redacted`).
ONE_TIME = "one_time_code"
ONE_TIME_UNTIL = "one_time_send_until"


#: How long a queued code may wait for its channel; the counter accepts a code for less.
SEND_WITHIN = dt.timedelta(minutes=10)


def expired(payload: dict[str, Any]) -> bool:
    """A one-time code's notice past the time it may still be sent."""
    until = payload.get(ONE_TIME_UNTIL) if payload.get(ONE_TIME) else None
    return bool(until) and clock.now() > dt.datetime.fromisoformat(str(until))


def redacted(body: str) -> str:
    """A one-time code's message as it is kept once sent: the code's digits replaced."""
    return re.sub(r"\d{4,}", "••••••", body)


def mask_phone(phone: str) -> str:
    """What may be shown at the counter: the first three and last four digits."""
    p = phone.strip()
    return p[:3] + "*" * max(len(p) - 7, 0) + p[-4:] if len(p) > 7 else "*" * len(p)


def send_code(session: Session, *, subject_id: int, title: str, body: str, key: str) -> str | None:
    """Queue `body` by SMS to the subject's registered phone on the first enabled SMS
    channel (a channel whose plugin sends to `phone`) in the caller's transaction.
    Returns the masked number it goes to, or None when the subject has no registered
    phone or no SMS channel is configured (nothing is queued then)."""
    from creditgov.alerts.channels import plugins

    installed = plugins()
    sms = sorted(name for name, cfg in directory(session).channels.items()
                 if cfg.enabled and getattr(installed.get(cfg.plugin), "address_field", None) == "phone")
    for name in sms:
        made = notify(session, recipients=[{"who": "subject", "channels": [name]}], title=title, body=body,
                      subject_id=subject_id, key=key,
                      payload={ONE_TIME: True, ONE_TIME_UNTIL: (clock.now() + SEND_WITHIN).isoformat()})
        for n in made:
            if n.address:
                return mask_phone(n.address)
    return None
