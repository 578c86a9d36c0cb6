"""Materials of a case (evidence for an objection, documents for a repair
application): stored by content under the files folder, recorded by name and hash,
and read back with an audit entry."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from creditgov.core import clock
from creditgov.core import files as private_files
from creditgov.core.errors import InvalidInput, NotFound
from creditgov.security import service as audit
from creditgov.workflows.common import get_application, get_objection
from creditgov.workflows.models import OBJECTION_OPEN, REPAIR_OPEN, Material
from creditgov.workflows.notifications import Wording, tell_department
from creditgov.workflows.rules import rules


def files_dir_for(url: str) -> Path:
    """Where materials are kept: `$CREDITGOV_FILES_DIR`, else beside a SQLite file
    (`<db>.files/`), else `./creditgov-files/`."""
    env = os.environ.get("CREDITGOV_FILES_DIR")
    if env:
        return Path(env).resolve()
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        return Path(url.removeprefix("sqlite:///") + ".files").resolve()
    return Path("creditgov-files").resolve()


def store_materials(session: Session, *, owner_kind: str, owner_id: int, files: Sequence[Path],
                    files_dir: Path | None, actor: str) -> list[Material]:
    """Copy each file under the files folder by its SHA-256 and record name and hash.
    A file left behind by a rolled-back transaction is harmless: it is addressed by
    content and a later upload of the same bytes reuses it."""
    if not files:
        return []
    if files_dir is None:
        raise InvalidInput("materials were given but no files folder is configured")
    out = []
    for f in files:
        f = Path(f)
        if not f.is_file():
            raise InvalidInput(f"material {f} is not a readable file")
        h = hashlib.sha256()
        with f.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        digest = h.hexdigest()
        rel = f"{digest[:2]}/{digest}"
        dst = files_dir / rel
        if not dst.exists():
            # Materials are personal: folders 0700 and files 0600 whatever the umask.
            private_files.private_dir(files_dir)
            private_files.private_dir(dst.parent)
            tmp = dst.with_suffix(f".{uuid.uuid4().hex}.tmp")
            private_files.copy_private(f, tmp)
            os.replace(tmp, dst)
        m = Material(owner_kind=owner_kind, owner_id=owner_id, file_name=f.name[:255], sha256=digest,
                     size=f.stat().st_size, stored_as=rel, uploaded_at=clock.now(), actor=actor)
        session.add(m)
        out.append(m)
    session.flush()
    return out


def materials(session: Session, owner_kind: str, owner_id: int) -> list[dict[str, Any]]:
    q = select(Material).where(Material.owner_kind == owner_kind, Material.owner_id == owner_id).order_by(Material.id)
    return [{"file": m.file_name, "sha256": m.sha256, "size": m.size, "stored_as": m.stored_as}
            for m in session.execute(q).scalars()]


def add_materials(session: Session, *, owner_kind: str, owner_id: int, files: Sequence[Path],
                  files_dir: Path | None, actor: str | None = None) -> list[Material]:
    """Materials handed in after filing: more evidence for an objection (also before its
    review), documents for a repair application still being handled. Stored like the
    filing's own, audited, and the unit that holds the case is told."""
    actor = actor or audit.default_actor()
    if not files:
        raise InvalidInput("no material files were given", code="workflows.materials.none")
    holder: str | None
    if owner_kind == "objection":
        o = get_objection(session, owner_id)
        if o.status not in (*OBJECTION_OPEN, "decided"):
            raise InvalidInput(f"objection {owner_id} is {o.status}; no more evidence can be added",
                               code="workflows.materials.objection_closed", params={"id": owner_id, "status": o.status})
        subject_id = o.subject_id
        holder = {"open": o.department_code, "reviewing": o.review_authority}.get(o.status)
    elif owner_kind == "repair":
        a = get_application(session, owner_id)
        if a.status not in REPAIR_OPEN:
            raise InvalidInput(f"repair application {owner_id} is {a.status}; no more materials can be added",
                               code="workflows.materials.repair_closed", params={"id": owner_id, "status": a.status})
        subject_id = a.subject_id
        holder = rules(session).repair.intake_unit if a.status == "submitted" else a.department_code
    else:
        raise InvalidInput("materials belong to an 'objection' or a 'repair'")
    rows = store_materials(session, owner_kind=owner_kind, owner_id=owner_id, files=files, files_dir=files_dir,
                           actor=actor)
    audit.append(session, action=f"{owner_kind}.materials", actor=actor, subject_id=subject_id,
                 detail={owner_kind: owner_id, "materials": [{"file": m.file_name, "sha256": m.sha256,
                                                              "size": m.size} for m in rows]})
    if holder:
        what, what_en = ("异议", "Objection") if owner_kind == "objection" else ("信用修复申请", "Repair application")
        files_said = ", ".join(m.file_name for m in rows)
        tell_department(session, holder, subject_id, f"{owner_kind}.materials", Wording(
            f"{what} {owner_id} 补充了材料: {files_said}。", f"{what_en} {owner_id}: materials added: {files_said}."),
            owner_kind, owner_id)
    return rows


def material_file(session: Session, *, owner_kind: str, owner_id: int, sha256: str, files_dir: Path,
                  subject_id: int | None, actor: str | None = None) -> tuple[Material, Path]:
    """One material of a case and the file holding its bytes. Materials are personal
    (ID cards, letters), so each read is audited."""
    actor = actor or audit.default_actor()
    m = session.execute(select(Material).where(Material.owner_kind == owner_kind, Material.owner_id == owner_id,
                                               Material.sha256 == sha256).order_by(Material.id).limit(1)).scalar()
    if m is None:
        raise NotFound(f"{owner_kind} {owner_id} has no material {sha256[:12]}…")
    path = files_dir / m.stored_as
    if not path.is_file():
        raise NotFound(f"the bytes of {m.file_name} are missing from the files folder")
    audit.append(session, action="material.read", actor=actor, subject_id=subject_id,
                 detail={owner_kind: owner_id, "file": m.file_name, "sha256": m.sha256})
    return m, path
