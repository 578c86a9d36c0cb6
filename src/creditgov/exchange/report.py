"""The upper platform's evaluations in the subject's credit report: one line each in
the report's local section (地方补充内容) — the platform, the evaluation's date, model,
grade and shared band, and when it was received. Registered into the report by the
composition root (`reports.extras`); the report escapes every line it is given."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from creditgov.core import clock
from creditgov.records import received
from creditgov.scoring import bands
from creditgov.security.crypto import KeyRing

SHOWN = 3  # the newest few: older ones stay on the credit file


def report_panel(session: Session, keyring: KeyRing, *, subject_id: int, actor: str, lang: str = "zh") -> list[Any]:
    out: list[Any] = []
    for e in received.evaluations(session, subject_id)[:SHOWN]:
        band = bands.LABELS.get(e["band"] or "")
        on = e["as_of"].isoformat() if e["as_of"] else "—"
        got = clock.show(e["received_at"], lang)
        if lang == "en":
            out.append(f"Upper-platform evaluation: {e['issuer']}, evaluated {on} by model {e['model'] or '—'}, "
                       f"grade {e['grade'] or '—'}{f' ({band[1]})' if band else ''}, received {got}.")
        else:
            out.append(f"上级平台评价：{e['issuer']}，评价日 {on}，模型 {e['model'] or '—'}，"
                       f"等级 {e['grade'] or '—'}{f'（{band[0]}）' if band else ''}，接收于 {got}。")
    return out
