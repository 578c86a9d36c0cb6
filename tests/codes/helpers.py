"""Builders for the credit code tests: a graded subject in a real store, a region's
signing key, and a province-signed trust list carried from one store to another —
all through the domain's own services."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from creditgov.codes import keys, trust
from creditgov.core import db
from creditgov.security.crypto import KeyRing
from creditgov.subjects.models import Subject
from tests.lists.helpers import add_run, make_subject


def graded_firms(url: str, grades: list[str], *, name: str | None = None) -> list[tuple[int, str]]:
    """Enterprises graded `grades` (A green, B green, C yellow, D red) in one published
    run of the public credit model: (id, credit code) each."""
    colours = {"A": "green", "B": "green", "C": "yellow", "D": "red"}
    with db.session_scope(url) as s:
        subjects = [make_subject(s, kind="enterprise", name=name) for _ in grades]
        add_run(s, "public-credit-enterprise", dt.date(2026, 10, 31),
                [(subj, g, colours[g]) for subj, g in zip(subjects, grades, strict=True)])
        return [(subj.id, str(subj.uscc)) for subj in subjects]


def graded_firm(url: str, grade: str = "A", *, name: str | None = None) -> tuple[int, str]:
    return graded_firms(url, [grade], name=name)[0]


def regrade(url: str, grades: dict[int, str]) -> None:
    """A later published run grading these subjects so."""
    colours = {"A": "green", "B": "green", "C": "yellow", "D": "red"}
    with db.session_scope(url) as s:
        rows = []
        for sid, g in grades.items():
            subj = s.get(Subject, sid)
            assert subj is not None
            rows.append((subj, g, colours[g]))
        add_run(s, "public-credit-enterprise", dt.date(2026, 11, 1), rows)


def region_key(url: str, ring: KeyRing, issuer: str, name: str) -> str:
    with db.session_scope(url) as s:
        return keys.create(s, ring, actor="test", issuer=issuer, issuer_name=name).kid


def share_trust(root_file: Path, sources: list[str], targets: list[str]) -> str:
    """The province's signed list of the `sources` stores' own keys, imported into each
    of `targets` (pinning the root there); returns the list's text."""
    root = trust.root_load(root_file)
    subs = []
    for url in sources:
        with db.session_scope(url) as s:
            subs.append(json.dumps(trust.export(s, actor="test")))
    with db.session_scope(sources[0]) as s:
        text = json.dumps(trust.export(s, root_key=root, add=subs[1:], actor="test"))
    pub = keys.b64(keys.raw_public(root.public_key()))
    for url in targets:
        with db.session_scope(url) as s:
            trust.import_list(s, text, root=pub, actor="test")
    return text
