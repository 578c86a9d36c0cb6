"""Regions and grids, subjects, and people linked to firms."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from creditgov.core.db import Base


class Region(Base):
    """A cell of the region tree: county → street/town → grid → micro-grid (any depth)."""

    __tablename__ = "regions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    level: Mapped[str] = mapped_column(String(30), nullable=False)
    depth: Mapped[int] = mapped_column(Integer, nullable=False)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    # Materialised path of codes ("/330800/s01/g03/"), so a subtree is one prefix query.
    path: Mapped[str] = mapped_column(String(400), nullable=False, index=True)


class Subject(Base):
    __tablename__ = "subjects"
    # never deleted nor re-keyed: on PostgreSQL this trigger refuses it (migration 0030),
    # and bulk loads check their keys to subjects without locking them (core/db.py)
    __table_args__ = {"info": {"keys_kept": "subjects_keys_kept"}}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(300), nullable=False, index=True)
    uscc: Mapped[str | None] = mapped_column(String(18), unique=True)
    resident_id: Mapped[str | None] = mapped_column(String(200))  # AES-GCM ciphertext
    resident_id_index: Mapped[str | None] = mapped_column(String(32), unique=True)
    resident_id_masked: Mapped[str | None] = mapped_column(String(18))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    industry: Mapped[str | None] = mapped_column(String(60), index=True)
    established_on: Mapped[dt.date | None] = mapped_column(Date)
    address: Mapped[str | None] = mapped_column(String(300))
    attributes: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="confirmed")
    source: Mapped[str | None] = mapped_column(String(80))
    row_hash: Mapped[str | None] = mapped_column(String(32))
    batch_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)


class SubjectLink(Base):
    """A person's role in a firm: legal representative, principal or employee, held from
    `since` until `until` (exclusive) when the source says so (None: not given / still held)."""

    __tablename__ = "subject_links"
    __table_args__ = (UniqueConstraint("firm_id", "person_id", "role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), nullable=False, index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), nullable=False, index=True)
    role: Mapped[str] = mapped_column(String(30), nullable=False)
    since: Mapped[dt.date | None] = mapped_column(Date)
    until: Mapped[dt.date | None] = mapped_column(Date)
    batch_id: Mapped[int | None] = mapped_column(Integer)


class SubjectChange(Base):
    """A correction of one subject's data, or the merge of a duplicate into a survivor,
    with four eyes: proposed with a reason, approved (and only then applied) or rejected by
    a second person; an applied merge can be undone. `payload` (the proposed fields) and
    `before` (the values a correction replaced) are encrypted: they may hold an ID number.
    `moved` lists every row a merge moved ({table, column, key}) and `created` the rows it
    copied to the survivor, so an undo puts back exactly those. The subject columns are
    plain integers, not foreign keys: a merge moves every foreign key to a subject, and
    this row must keep naming both sides."""

    __tablename__ = "subject_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(12), nullable=False)  # correction / merge
    target_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)  # corrected subject / survivor
    duplicate_id: Mapped[int | None] = mapped_column(Integer, index=True)
    payload: Mapped[str | None] = mapped_column(Text)
    before: Mapped[str | None] = mapped_column(Text)
    moved: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    kept: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    created: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False, index=True)  # proposed/approved/rejected/undone
    proposed_by: Mapped[str] = mapped_column(String(100), nullable=False)
    proposed_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    note: Mapped[str | None] = mapped_column(Text)
    undone_by: Mapped[str | None] = mapped_column(String(100))
    undone_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    undo_reason: Mapped[str | None] = mapped_column(Text)
