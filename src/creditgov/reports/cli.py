"""`creditgov report SUBJECT --out F`: a subject's credit report (信用报告) as PDF, issued,
stored and audited as a download from the API is (`reports.service.issue`)."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from creditgov.cli.common import STATE, JsonOpt, console, emit_json, save, session, writable
from creditgov.core import settings
from creditgov.core.errors import InvalidInput
from creditgov.reports import service
from creditgov.security import service as audit
from creditgov.subjects import service as subject_service


def report(key: str = typer.Argument(..., help="Subject: id, credit code or ID number."),
           out: Path = typer.Option(..., "--out", help="The PDF file to write."),
           lang: str | None = typer.Option(None, "--lang", help="zh | en (default: $CREDITGOV_LANG, else zh)."),
           purpose: str = typer.Option("credit report", "--purpose", help="Why the report is issued (audited)."),
           verify_base: str | None = typer.Option(None, "--verify-base",
                                                  help="Verification address for the QR code "
                                                       "(default: $CREDITGOV_PUBLIC_URL/verify)."),
           actor: str | None = typer.Option(None, "--actor"), json_out: bool = JsonOpt) -> None:
    """Issue a subject's credit report in Chinese (the default) or English."""
    lang = lang or ("en" if os.environ.get("CREDITGOV_LANG") == "en" else "zh")
    if lang not in ("zh", "en"):
        raise InvalidInput(f"--lang must be zh or en, not {lang!r}")
    base = verify_base or ((settings.public_url() or "http://localhost:8000") + "/verify")
    writable(out)  # before the report is issued, numbered and audited
    with session() as s:
        ring = STATE.keyring()
        subject_id = subject_service.resolve(s, ring, key).id
        pdf, row = service.issue(s, ring, subject_id=subject_id, actor=actor or audit.default_actor(),
                                 purpose=purpose, verify_base=base, lang=lang)
        serial = row.serial
        save(out, pdf)  # in the session: a file not written issues nothing
    if json_out:
        emit_json({"file": str(out), "serial": serial, "subject_id": subject_id, "lang": lang, "bytes": len(pdf)})
        return
    console.print(f"{serial} → {out} ({len(pdf)} bytes)", markup=False, highlight=False)
