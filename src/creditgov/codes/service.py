"""Issuing and verifying credit codes, and the evidence a foreign code gives the
credit check. Split along its seams: `envelope` (the COSE/CWT bytes), `keys` (the
region's signing keys), `trust` (the trust list and the province root), `revocation`
(the sweep and the signed lists)."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy.orm import Session

from creditgov.codes import envelope, keys
from creditgov.codes.models import IssuedCode
from creditgov.codes.revocation import revoked_ids
from creditgov.codes.schemas import POLICY
from creditgov.codes.trust import Trusted, epoch, trusted
from creditgov.core import clock
from creditgov.core import labels as code_labels
from creditgov.core.errors import NotFound
from creditgov.measures.catalogue import catalogue
from creditgov.measures.check import current_grade
from creditgov.scoring import bands
from creditgov.scoring.narrative import COLOURS
from creditgov.security import service as audit
from creditgov.security.crypto import KeyRing, mask_name
from creditgov.subjects.models import Subject
from creditgov.subjects.schemas import kinds

# ----------------------------------------------------------------------------- words

STATUS: dict[str, tuple[str, str]] = {
    "valid": ("有效", "valid"),
    "expired": ("已过期", "expired"),
    "revoked": ("已撤销", "revoked"),
    "unknown_issuer": ("签发方不在信任列表中", "issuer not in the trust list"),
    "invalid": ("无效(签名或格式不符)", "invalid (signature or format)"),
}
REASONS: dict[str, tuple[str, str]] = {
    "grade_drop": ("信用等级下降", "grade dropped"), "list_entry": ("列入名单", "entered a list"),
    "repair": ("信用修复后需更新", "credit repaired: renew the code"), "manual": ("人工撤销", "revoked by the office"),
}


@lru_cache(maxsize=1)
def _fixed() -> dict[str, dict[str, tuple[str, str]]]:
    return {"status": STATUS, "band": dict(bands.LABELS), "colour": dict(COLOURS),
            "kind": {k: (v.name_zh, v.name_en) for k, v in kinds().items()}}


def labels() -> dict[str, dict[str, tuple[str, str]]]:
    """Words for every code a credit code carries (the page embeds them): statuses,
    bands, colours, subject kinds and the evaluation models by their titles (the label
    catalogue's, so a model is named as everywhere else; a model this platform does not
    know is shown by its code)."""
    return {**_fixed(), "model": code_labels.names("model")}


# ----------------------------------------------------------------------------- standing


@dataclass(frozen=True)
class Standing:
    model: str | None
    grade: str | None
    band: str | None
    colour: str | None


def standing(session: Session, subject_id: int) -> Standing:
    """The grade a code states: the first of the policy's models for the subject's
    kind whose latest published run graded it, and that grade's shared band."""
    subject = session.get(Subject, subject_id)
    if subject is None:
        raise NotFound(f"subject {subject_id} not found")
    conn = session.connection()
    models = POLICY.shipped().models.get(subject.kind, [])
    for model in models:
        g = current_grade(conn, subject_id, model)
        if g.grade is not None:
            band = catalogue(conn).bands.get((model, g.version or ""), {}).get(g.grade)
            return Standing(model, g.grade, band, g.colour)
    return Standing(models[0] if models else None, None, None, None)


# ----------------------------------------------------------------------------- issue


@dataclass(frozen=True)
class Issued:
    text: str
    code_id: str
    issued_at: dt.datetime
    expires_at: dt.datetime
    states: dict[str, Any]


def claims_for(signer: keys.Signer, states: dict[str, Any], *, code_id: str, issued_at: dt.datetime,
               expires_at: dt.datetime) -> dict[Any, Any]:
    return {envelope.ISS: signer.issuer, envelope.IAT: epoch(issued_at), envelope.EXP: epoch(expires_at),
            envelope.CTI: bytes.fromhex(code_id), envelope.CLAIM: {**states, "rn": signer.issuer_name}}


def issue(session: Session, ring: KeyRing, *, subject_id: int, actor: str) -> Issued:
    """A new code for a subject, signed with the region's active key; recorded (so it
    can be revoked) and audited. The name is masked for people; an ID number is shown
    only masked."""
    subject = session.get(Subject, subject_id)
    if subject is None:
        raise NotFound(f"subject {subject_id} not found")
    st = standing(session, subject_id)
    signer = keys.signer(session, ring, actor=actor)
    person = subject.kind == "individual" or subject.resident_id_index is not None
    states = {"k": subject.kind, "n": mask_name(subject.name) if person else subject.name,
              "id": (subject.resident_id_masked or "") if person else (subject.uscc or ""),
              "g": st.grade, "b": st.band, "c": st.colour, "m": st.model}
    now = clock.now().replace(microsecond=0)
    expires = now + dt.timedelta(hours=POLICY.shipped().validity_hours)
    code_id = secrets.token_hex(8)
    text = envelope.seal(claims_for(signer, states, code_id=code_id, issued_at=now, expires_at=expires),
                         signer.key, envelope.protected_header(signer.kid))
    session.add(IssuedCode(code_id=code_id, subject_id=subject_id, kid=signer.kid, model=st.model, grade=st.grade,
                           band=st.band, colour=st.colour, issued_at=now, expires_at=expires, actor=actor[:100],
                           text=text))
    session.flush()
    audit.append(session, action="code.issue", actor=actor, subject_id=subject_id,
                 detail={"code_id": code_id, "kid": signer.kid, "grade": st.grade, "band": st.band,
                         "expires_at": expires.isoformat()})
    return Issued(text=text, code_id=code_id, issued_at=now, expires_at=expires, states=states)


# ----------------------------------------------------------------------------- verify


def _cst(epoch_s: int) -> str:
    return dt.datetime.fromtimestamp(epoch_s, dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m-%d %H:%M") + \
        " (UTC+8)"


@dataclass
class Verifier:
    """Verification against a trust list and revocation lists read once: a verifier
    that never saw the issuer's database needs nothing else."""

    keys: dict[str, Trusted]
    revoked: dict[str, set[str]]
    skew: int = 300
    cache: dict[str, Any] = field(default_factory=dict)

    def verify(self, text: str, *, now: dt.datetime | None = None) -> dict[str, Any]:
        at = epoch(now or clock.now())
        try:
            opened = envelope.open_text(text)
        except envelope.Malformed as exc:
            return self._out("invalid", why=str(exc))
        t = self.keys.get(opened.kid)
        if t is None:
            return self._out("unknown_issuer", why=f"key {opened.kid} is not in the trust list")
        if opened.alg != envelope.ALG_EDDSA or not opened.verify(t.key):
            return self._out("invalid", why="the signature does not verify")
        c = opened.claims
        body = c.get(envelope.CLAIM)
        iss, iat, exp, cti = c.get(envelope.ISS), c.get(envelope.IAT), c.get(envelope.EXP), c.get(envelope.CTI)
        if not (isinstance(body, Mapping) and isinstance(iat, int) and isinstance(exp, int) and isinstance(cti, bytes)):
            return self._out("invalid", why="the code lacks its claims")
        if iss != t.issuer:
            return self._out("invalid", why=f"the code claims issuer {iss!r} but is signed by a key of {t.issuer!r}")
        states = {"kind": body.get("k"), "name": body.get("n"), "identifier": body.get("id"), "grade": body.get("g"),
                  "band": body.get("b"), "colour": body.get("c"), "model": body.get("m"), "issuer": t.issuer,
                  "issuer_name": t.issuer_name, "issued_at": _cst(iat), "expires_at": _cst(exp), "code_id": cti.hex(),
                  "kid": opened.kid}
        if iat > at + self.skew:
            return self._out("invalid", states, why="issued in the future")
        if exp <= at:
            return self._out("expired", states)
        if cti.hex() in self.revoked.get(t.issuer, ()):
            return self._out("revoked", states)
        return self._out("valid", states)

    @staticmethod
    def _out(status: str, states: dict[str, Any] | None = None, *, why: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"status": status, "status_zh": STATUS[status][0], "status_en": STATUS[status][1],
                               "valid": status == "valid", "states": states}
        if why:
            out["why"] = why
        if states:
            words = labels()
            for key, kind in (("kind", "kind"), ("band", "band"), ("colour", "colour"), ("model", "model")):
                zh, en = words[kind].get(str(states.get(key)), (states.get(key), states.get(key)))
                states[f"{key}_zh"], states[f"{key}_en"] = zh, en
        return out


def verifier(session: Session) -> Verifier:
    return Verifier(keys=trusted(session), revoked=revoked_ids(session),
                    skew=POLICY.shipped().clock_skew_seconds)


def verify(session: Session, text: str) -> dict[str, Any]:
    return verifier(session).verify(text)


# ----------------------------------------------------------------------------- mutual recognition


def evidence(session: Session, text: str, *, scenario: str, subject: dict[str, Any]) -> dict[str, Any]:
    """What a code presented at a credit check proves (the check's evidence seam): a
    valid code of another region, naming this subject, whose band the scenario
    recognises (data/policy.yaml `recognition`), counts; anything else is shown and
    refused with the reason."""
    v = verify(session, text)
    out: dict[str, Any] = {"status": v["status"], "accepted": False, "band": None, "states": v["states"]}
    st = v["states"] or {}
    t = trusted(session).get(st.get("kid", ""))
    rule = POLICY.shipped().recognition.get(scenario)
    if not v["valid"]:
        out["why"] = f"the code is {v['status_en']}"
    elif t is None or t.origin == "own":
        out["why"] = "a code of this region is no evidence: the check reads the grade here"
    elif not _same_subject(st, subject):
        out["why"] = "the code names another subject"
    elif rule is None:
        out["why"] = f"scenario {scenario} recognises no other region's code"
    elif st.get("band") not in rule.bands:
        out["why"] = f"scenario {scenario} recognises bands {rule.bands}, the code states {st.get('band')!r}"
    else:
        out.update(accepted=True, band=st["band"], issuer=st["issuer"], citation=rule.citation.strip())
    return out


def _same_subject(st: dict[str, Any], subject: dict[str, Any]) -> bool:
    if st.get("kind") != subject.get("kind"):
        return False
    if subject.get("uscc"):
        return bool(st.get("identifier") == subject["uscc"])
    return bool(st.get("identifier")) and st.get("identifier") == subject.get("resident_id_masked") and \
        st.get("name") == mask_name(subject.get("name"))
