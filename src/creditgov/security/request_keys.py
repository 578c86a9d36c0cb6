"""A request sent again is answered, not done again: one mechanism for every edge.

A client names a request it may send twice — an API request by its `Idempotency-Key`
header, a page form by the hidden key the page drew into it — and the first such
request *claims* the key before its handler runs: a row, unique per caller and key,
committed at once, so of two copies in flight exactly one wins. When the handler has
answered, the answer is kept on the row (`finish`); a copy that comes later gets that
answer back instead of running (`claim` returns it). A claim whose handler failed or
refused is given up (`release`): nothing was done, so the copy runs (corrected, if the
refusal was about what it said).

The caller is a SHA-256 of its credential (`caller_of`), never the credential: a key
means nothing to anyone else. Answers are encrypted with the store's key (an answer may
show a secret once — a new API token, a recovery code) and kept `KEEP` (24 hours),
then purged (`purge`: now and then by a claim, and by the `request_keys` job).

This module knows no HTTP: the API's and the pages' edge (`api/request_keys.py`) reads
the key and the body, asks here, and replays or refuses.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
import time
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from creditgov.core import clock
from creditgov.core.errors import Conflict, InvalidInput
from creditgov.security.crypto import KeyRing
from creditgov.security.models import RequestKey

KEEP = dt.timedelta(hours=24)
# A claim still running this long was left by a process that died before answering (a
# killed server): nothing can still be working on it, so a copy may claim the key again.
ABANDONED = dt.timedelta(minutes=30)
RUNNING, DONE = "running", "done"
# A key is 1–100 visible ASCII characters. A caller without a credential shares its scope
# with every other such caller, so its key must be one nobody else would pick (a UUID).
_KEY = re.compile(r"[\x21-\x7e]{1,100}")
ANONYMOUS_MIN = 16
PURGE_EVERY = 60.0  # seconds between two purges by claims, per store and process
_purged_at: dict[str, float] = {}


@dataclass(frozen=True)
class Answer:
    """What a handler answered: its status, content type, redirect target and body."""

    status: int
    content_type: str | None
    location: str | None
    body: bytes


def caller_of(*, bearer: str | None = None, session_cookie: str | None = None) -> str:
    """Whose keys: a SHA-256 of the bearer token, else of the session cookie, else the
    public's one scope. Domain-separated, so it never equals a token's stored hash."""
    if bearer:
        seed = b"creditgov.request-key\x00bearer\x00" + bearer.encode("utf-8", "surrogateescape")
    elif session_cookie:
        seed = b"creditgov.request-key\x00session\x00" + session_cookie.encode("utf-8", "surrogateescape")
    else:
        seed = b"creditgov.request-key\x00public"
    return hashlib.sha256(seed).hexdigest()


PUBLIC_CALLER = caller_of()


def check_key(key: str, *, caller: str) -> str:
    """The key as given, or a refusal: 1–100 visible ASCII characters, and at least
    `ANONYMOUS_MIN` for a caller without a credential."""
    if not _KEY.fullmatch(key) or (caller == PUBLIC_CALLER and len(key) < ANONYMOUS_MIN):
        raise InvalidInput("Idempotency-Key must be 1-100 visible ASCII characters (at least 16 without "
                           "signing in)", code="security.request.key_invalid")
    return key


def _found(session: Session, caller: str, key: str) -> RequestKey | None:
    return session.execute(select(RequestKey).where(RequestKey.caller == caller, RequestKey.key == key)
                           .with_for_update()).scalar_one_or_none()


def claim(session: Session, keyring: KeyRing, *, caller: str, key: str, method: str, path: str,
          body_sha256: str, same_body: bool = True, now: dt.datetime | None = None) -> int | Answer:
    """Claim `key` for this request: its row's id when this request is the first (the
    caller commits at once, then runs the handler), or the kept answer of the first.
    Refused when the key was used for another request (another method or path or, with
    `same_body`, another body) and while the first has not answered yet. A row older
    than `KEEP` counts as gone, and so does a claim still running after `ABANDONED`."""
    now = now or clock.now()
    _now_and_then(session, now)
    row = _found(session, caller, key)
    if row is not None and (row.created_at <= now - KEEP
                            or (row.state != DONE and row.created_at <= now - ABANDONED)):
        session.delete(row)
        session.flush()
        row = None
    if row is None:
        new = RequestKey(caller=caller, key=key, method=method, path=path, body_sha256=body_sha256, state=RUNNING,
                         created_at=now)
        try:
            with session.begin_nested():
                session.add(new)
        except IntegrityError:  # another process claimed it between the read and the insert
            row = _found(session, caller, key)
            if row is None:
                raise
        else:
            return new.id
    if (row.method, row.path) != (method, path) or (same_body and row.body_sha256 != body_sha256):
        raise InvalidInput("this Idempotency-Key was already used for another request: use a new key",
                           code="security.request.key_reused")
    if row.state != DONE or row.status is None:
        raise Conflict("the first request with this Idempotency-Key has not answered yet: retry in a moment",
                       code="security.request.in_progress")
    return _answer(keyring, row)


def _answer(keyring: KeyRing, row: RequestKey) -> Answer:
    kept = json.loads(keyring.decrypt(row.answer)) if row.answer else {}
    return Answer(status=int(row.status or 200), content_type=row.content_type, location=kept.get("location"),
                  body=base64.b64decode(kept.get("body", "")))


def finish(session: Session, keyring: KeyRing, claim_id: int, answer: Answer) -> None:
    """Keep the first request's answer on its claim (gone already if it outlived `KEEP`)."""
    row = session.get(RequestKey, claim_id)
    if row is None:
        return
    row.state, row.status, row.content_type = DONE, answer.status, (answer.content_type or None)
    if row.content_type is not None:
        row.content_type = row.content_type[:200]
    row.answer = keyring.encrypt(json.dumps({"location": answer.location,
                                             "body": base64.b64encode(answer.body).decode("ascii")}))


def release(session: Session, claim_id: int) -> None:
    """Give the key up: the handler failed or refused, nothing was done, a copy may run."""
    session.execute(delete(RequestKey).where(RequestKey.id == claim_id))


def purge(session: Session, *, now: dt.datetime | None = None) -> int:
    """Delete the keys older than `KEEP`; how many."""
    cutoff = (now or clock.now()) - KEEP
    gone = cast(CursorResult[Any], session.execute(delete(RequestKey).where(RequestKey.created_at <= cutoff)))
    return int(gone.rowcount or 0)


def _now_and_then(session: Session, now: dt.datetime) -> None:
    """Purge from a claim at most every `PURGE_EVERY` seconds per store and process, so
    the table stays small without the job (and a busy server does not purge per request)."""
    store = str(session.get_bind().engine.url)
    tick = time.monotonic()
    if tick - _purged_at.get(store, float("-inf")) < PURGE_EVERY:
        return
    _purged_at[store] = tick
    purge(session, now=now)
