"""Read logic the exchange's pages, commands and the subject's own view share."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.core import clock
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


PACKAGE_HEADER = {"zh": ["编号", "通道", "对方平台", "方向", "序号", "所含数据", "条数", "状态", "尝试次数",
                         "生成时间(北京时间)", "发送时间(北京时间)", "完成时间(北京时间)", "最近错误"],
                  "en": ["Package", "Channel", "Peer", "Direction", "Number", "Contents", "Items", "Status",
                         "Attempts", "Created (CST)", "Sent (CST)", "Done (CST)", "Last error"]}
BATCH = 2000


def _pick(table: dict[str, tuple[str, str]], code: str, lang: str) -> str:
    zh, en = table.get(code, (code, code))
    return en if lang == "en" else zh


def package_rows(session: Session, *, channel: str | None = None, lang: str = "zh") -> Iterator[list[Any]]:
    """Every package (of one channel, or all), newest first as on the exchange page, as
    export rows with codes named in `lang` and times in China Standard Time; read in
    batches so a long history streams. Packages carry no personal data in these columns."""
    q = select(ExchangePackage).order_by(ExchangePackage.id.desc())
    if channel:
        q = q.where(ExchangePackage.channel == channel)
    last: int | None = None
    while True:
        page = q if last is None else q.where(ExchangePackage.id < last)
        batch = list(session.execute(page.limit(BATCH)).scalars())
        if not batch:
            return
        for p in batch:
            yield package_row(p, lang)
        last = batch[-1].id


def package_row(p: ExchangePackage, lang: str = "zh") -> list[Any]:
    """A package as an export row: the page's columns and its peer, sent and done times."""
    sep = "、" if lang == "zh" else "; "
    return [p.id, p.channel, p.peer, _pick(DIRECTION, p.direction, lang), p.seq,
            sep.join(_pick(KIND, k, lang) for k in p.kinds), p.items, _pick(STATUS, p.status, lang),
            p.attempts, _when(p.created_at, lang), _when(p.sent_at, lang), _when(p.done_at, lang),
            p.last_error or ""]


def _when(v: dt.datetime | None, lang: str) -> str:
    return clock.show(v, lang, label=False, seconds=True) if v is not None else ""
