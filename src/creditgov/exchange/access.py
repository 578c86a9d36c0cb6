"""Read logic the exchange's pages, commands and the subject's own view share."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.exchange.models import ExchangePackage, PackageSubject

DIRECTION = {"out": ("发出", "sent"), "in": ("收到", "received")}
STATUS = {"pending": ("待发送", "pending"), "delivered": ("已送达待确认", "delivered, awaiting acknowledgement"),
          "acknowledged": ("对方已确认", "acknowledged"), "held": ("待补齐前序包", "held for an earlier package"),
          "applied": ("已应用", "applied")}
KIND = {"record.new": ("新增信用记录", "new credit record"), "record.changed": ("更正后的信用记录", "changed credit record"),
        "record.repaired": ("信用修复", "credit repair"), "record.revoked": ("撤销信用记录", "record revoked"),
        "record.corrected": ("更正信用记录", "record corrected"),
        "record.publication-ended": ("公示期满", "publication ended"), "record.archived": ("归档", "archived"),
        "list.entered": ("列入名单", "list entry"), "list.exited": ("移出名单", "list exit"),
        "evaluation.result": ("信用评价结果", "evaluation result"),
        "inspection.result": ("检查结果", "inspection result")}


def labelled(table: dict[str, tuple[str, str]], code: str) -> dict[str, str]:
    zh, en = table.get(code, (code, code))
    return {"code": code, "label_zh": zh, "label_en": en}


def for_subject(session: Session, subject_id: int, *, limit: int = 50) -> list[dict[str, Any]]:
    """The packages that carried the subject's data, newest first: where its data went
    (sent) and came from (received)."""
    rows = session.execute(select(ExchangePackage).join(PackageSubject, PackageSubject.package_id == ExchangePackage.id)
                           .where(PackageSubject.subject_id == subject_id)
                           .order_by(ExchangePackage.id.desc()).limit(limit)).scalars()
    return [{"id": p.id, "channel": p.channel, "peer": p.peer, "seq": p.seq,
             "direction": labelled(DIRECTION, p.direction), "status": labelled(STATUS, p.status),
             "kinds": [labelled(KIND, k) for k in p.kinds], "at": p.done_at or p.sent_at or p.created_at}
            for p in rows]
