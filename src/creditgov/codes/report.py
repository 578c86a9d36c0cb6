"""The credit code in the subject's credit report: a fresh code (issued and audited as
any other) drawn as a QR beside what it states and where to verify it. Registered into
the report's local section by the composition root (`reports.extras`)."""

from __future__ import annotations

from typing import Any

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.units import mm
from sqlalchemy.orm import Session

from creditgov.codes import service
from creditgov.codes.models import CodeSigningKey
from creditgov.core import clock
from creditgov.security.crypto import KeyRing


def report_panel(session: Session, keyring: KeyRing, *, subject_id: int, actor: str, lang: str = "zh") -> list[Any]:
    """A QR of a new code and one line about it in the report's language; nothing when
    this region has no signing key yet (a store that issues no codes)."""
    if session.query(CodeSigningKey.id).filter(CodeSigningKey.status == "active").first() is None:
        return []
    issued = service.issue(session, keyring, subject_id=subject_id, actor=actor)
    qr = QrCodeWidget(issued.text, barLevel="M")
    b = qr.getBounds()
    size = 45 * mm
    d = Drawing(size, size, transform=[size / (b[2] - b[0]), 0, 0, size / (b[3] - b[1]), 0, 0])
    d.add(qr)
    until = clock.show(issued.expires_at, lang)
    grade = issued.states["g"] or "—"
    if lang == "en":
        return [f"Credit code: number {issued.code_id}, grade {grade}, valid until {until}; any region can "
                f"verify it offline on the credit-code verification page (/codes/verify).", d]
    return [f"信用码：编号 {issued.code_id}，等级 {grade}，"
            f"有效期至 {until}；任何地区可在信用码验证页离线核验（/codes/verify）。", d]
