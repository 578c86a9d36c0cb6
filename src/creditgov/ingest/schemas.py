"""Source specs: how one department's file becomes subjects or credit records.

A spec is data (YAML). It names the file, its format and encoding, maps columns to
fields, lists ordered transformation steps, row filters, and the catalogue items the
source may produce. Steps are deterministic, so keeping the raw row and the spec
version is enough to replay any record's transformation (`creditgov ingest trace`).
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

RECORD_FIELDS = frozenset({
    "uscc", "resident_id", "identifier", "name", "item", "occurred_on", "decided_on", "value", "grade",
    "text", "document_no",
})
REGISTRATION_FIELDS = frozenset({
    "kind", "uscc", "resident_id", "name", "region", "industry", "established_on", "address",
})
# `since` and `until`: when the role began and ended (optional; ISO dates after a `date` step).
LINK_FIELDS = frozenset({"firm_uscc", "person_id", "person_name", "role", "since", "until"})
FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
DATE_FIELDS = frozenset({"occurred_on", "decided_on", "established_on", "since", "until"})

Op = Literal["trim", "halfwidth", "upper", "lower", "date", "map", "number", "strip", "default",
             "replace", "split_first"]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Step(Frozen):
    """One transformation of one field (or of every field with `field: "*"`).

    - trim: strip whitespace (also full-width spaces); drop zero-width spaces and BOMs,
      and joiners that join nothing (beside ASCII or at an end: emoji sequences stay whole)
    - halfwidth: full-width letters, digits and punctuation to half-width (NFKC on those only)
    - upper / lower
    - date: parse 2024年3月5日, 20240305, 2024/3/5, 2024-03-05, 2024.3.5 to ISO dates
    - map: a department's own codes to ours (`map:`), `default:` for unmapped values,
      otherwise an unmapped value rejects the row naming the code
    - number: parse a number, dropping thousands separators and units; `scale:` multiplies
      (e.g. 10000 for 万元 to 元)
    - strip: remove the characters in `chars`
    - default: use `value` when the field is empty
    - replace: replace `old` by `new`
    - split_first: keep the part before the first `sep`
    """

    field: str
    op: Op
    map: dict[str, str] | None = None
    default: str | None = None
    scale: float | None = None
    chars: str | None = None
    value: str | None = None
    old: str | None = None
    new: str | None = None
    sep: str | None = None

    @model_validator(mode="after")
    def _args(self) -> Step:
        need = {"map": "map", "scale": None, "strip": "chars", "default": "value", "replace": "old",
                "split_first": "sep"}.get(self.op)
        if need and getattr(self, need) is None:
            raise ValueError(f"step {self.op!r} on {self.field!r} needs `{need}`")
        return self


class Filter(Frozen):
    """Keep a row only when the condition holds (evaluated on transformed fields)."""

    field: str
    op: Literal["eq", "ne", "in", "not_in", "not_empty"]
    value: Any = None


class SourceSpec(Frozen):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    version: str
    title: str | None = None
    department: str
    # `handled`: each row is handed to a function another domain registered under
    # `handler` (handled.py), e.g. a bank's repayments landing in the loan book.
    kind: Literal["registration", "links", "records", "handled"]
    file: str = Field(description="file name or glob, relative to the spec's data folder")
    format: Literal["csv", "xlsx", "jsonl"]
    encoding: Literal["utf-8", "utf-8-sig", "gbk", "gb18030"] = "utf-8"
    delimiter: str = ","
    sheet: str | None = None
    columns: dict[str, str] = Field(description="our field -> the source's column name")
    attributes: dict[str, str] = Field(default_factory=dict, description="attribute name -> column")
    steps: list[Step] = Field(default_factory=list)
    filters: list[Filter] = Field(default_factory=list)
    items: list[str] = Field(default_factory=list, description="catalogue items this source may produce")
    item: str | None = Field(default=None, description="fixed item when the file has no item column")
    subject_kind: str | None = Field(default=None, description="kind for registration or provisional subjects")
    unknown_subject: Literal["provisional", "quarantine"] = "quarantine"
    natural_key: list[str] = Field(default_factory=list, description=(
        "fields that identify a record (a correction keeps them and changes the rest); empty, or a key "
        "field empty in a row: the fact itself (subject, item, dates, value, grade, text and document "
        "number as parsed), so the same fact sent again in another form is a duplicate"))
    order: int = 100
    handler: str | None = Field(default=None, description="for `handled` specs: the registered row handler")
    context: dict[str, str] = Field(default_factory=dict,
                                    description="for `handled` specs: fixed values every row is handled with")

    @model_validator(mode="after")
    def _fields(self) -> SourceSpec:
        if self.kind == "handled":
            self._handled()
        elif self.handler or self.context:
            raise ValueError("`handler` and `context` belong to `handled` specs only")
        allowed = {"records": RECORD_FIELDS, "registration": REGISTRATION_FIELDS, "links": LINK_FIELDS,
                   "handled": set(self.columns)}[self.kind]
        unknown = set(self.columns) - allowed
        if unknown:
            raise ValueError(f"unknown field(s) {sorted(unknown)} for a {self.kind} spec; allowed: {sorted(allowed)}")
        fields = set(self.columns) | {f"attr.{a}" for a in self.attributes}
        for s in self.steps:
            if s.field != "*" and s.field not in fields:
                raise ValueError(f"step {s.op!r} names field {s.field!r}, which no column maps")
        for f in self.filters:
            if f.field not in fields:
                raise ValueError(f"filter names field {f.field!r}, which no column maps")
        for k in self.natural_key:
            if k not in fields:
                raise ValueError(f"natural_key field {k!r} is not mapped")
        if self.kind == "records":
            ids = {"uscc", "resident_id", "identifier"} & set(self.columns)
            if not ids:
                raise ValueError("a records spec must map `uscc`, `resident_id` or `identifier`")
            if "identifier" in ids and len(ids) > 1:
                raise ValueError("`identifier` (a column holding credit codes and ID numbers alike) "
                                 "replaces `uscc` and `resident_id`: map it alone")
            if "identifier" in ids and self.subject_kind:
                raise ValueError("a spec mapping `identifier` cannot fix `subject_kind`: provisional "
                                 "subjects become enterprises or individuals by their identifier")
            if "item" not in self.columns and not self.item:
                raise ValueError("a records spec needs an `item` column or a fixed `item`")
            if "occurred_on" not in self.columns:
                raise ValueError("a records spec must map `occurred_on`")
            if not self.items:
                raise ValueError("a records spec must list the catalogue `items` it may produce")
            if self.item and self.item not in self.items:
                raise ValueError(f"fixed item {self.item!r} is not among `items`")
        if self.kind == "registration" and "name" not in self.columns:
            raise ValueError("a registration spec must map `name`")
        if self.kind == "links" and not {"firm_uscc", "person_id", "role"} <= set(self.columns):
            raise ValueError("a links spec must map firm_uscc, person_id and role")
        return self

    def _handled(self) -> None:
        if not self.handler:
            raise ValueError("a handled spec must name its `handler`")
        bad = [f for f in self.columns if not FIELD_NAME.match(f)]
        if bad:
            raise ValueError(f"field names {bad} of a handled spec must be lower-case identifiers")
        if self.items or self.item or self.natural_key or self.attributes:
            raise ValueError("a handled spec produces no records: no `items`, `item`, `natural_key` or "
                             "`attributes` (the handler keeps its own keys; a row applied once is "
                             "a duplicate the next time)")

    @property
    def personal(self) -> bool:
        """Raw rows of this source hold personal identifiers and are stored encrypted."""
        return bool({"resident_id", "person_id", "identifier"} & set(self.columns))


class Manifest(Frozen):
    """`manifest.yaml` of an ingestion folder: what to load, in which order."""

    county: str
    regions: str | None = None
    data_requests: str | None = None
    specs: list[str] = Field(default_factory=lambda: ["specs/*.yaml"])
    data_dir: str = "data"
