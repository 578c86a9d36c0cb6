"""Registration and link rows: everything about a row that needs no stored subject
(`RowPreparer`), in the order the batch writer (writer.py) checks the rest.

Run row by row in the writer's process or, a chunk of rows at a time (`RowsChunk`), in
the helper process of stream.py.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from creditgov.ingest.pipeline import CompiledSpec
from creditgov.ingest.readers import RawRow
from creditgov.ingest.schemas import SourceSpec
from creditgov.ingest.transforms import RowError
from creditgov.ingest.values import (
    attribute_value,
    identifier,
    in_column,
    pack_raw,
    short_hash,
    to_date,
)
from creditgov.security.crypto import mask_id
from creditgov.subjects.schemas import kinds

# A prepared registration row: (identifier kind, canonical identifier, look-up key (the
# credit code, or the ID number's blind index), content hash, the new subject's values in
# writer.SUBJECT_COLUMNS order up to row_hash, stored form). Plain strings and numbers:
# they cross between processes, and dates or nested dicts cost several times more to
# unpickle (`subject_update` derives an update's fields from them when one is needed).
SubjectPrep = tuple[str, str, str, str, list[Any]]
# A prepared link row: (role, firm credit code, person's blind index or None, why the
# person's ID number is invalid or None, since, until (ISO dates or None)); the firm is
# looked up before the person is checked.
LinkPrep = tuple[str, str, str | None, str | None, str | None, str | None]


@dataclass
class RowsChunk:
    """Consecutive rows of a registration or links file after `RowPreparer`: per row
    (line, packed raw row, raw hash, outcome), the outcome a reason (rejected), None
    (filtered) or the prepared tuple. Picklable."""

    rows: list[tuple[int, str, str, Any]]


class RowPreparer:
    """The database-free part of a registration or links spec, row by row: steps,
    filters and every check that needs no stored subject, in `BatchWriter`'s order,
    with the ID number's encryption, blind index and mask done here. A reason about one
    field names the file's column it came from (`values.in_column`)."""

    def __init__(self, spec: SourceSpec, *, keyring: Any, today: dt.date, regions: dict[str, int]) -> None:
        self.spec, self.keyring, self.today, self.regions = spec, keyring, today, regions
        self.cs = CompiledSpec(spec)
        self.tabular = spec.format in ("csv", "xlsx")
        self.kinds = kinds()

    def prepare(self, raw: RawRow) -> tuple[str, str, Any]:
        """(packed raw row, raw hash, outcome) as in `RowsChunk`."""
        rtext = pack_raw(raw, self.tabular)
        rhash = short_hash(rtext)
        try:
            vals = self._apply(raw)
            if not self.cs.keep(vals):
                return rtext, rhash, None
            if self.spec.kind == "registration":
                return rtext, rhash, self.registration(vals)
            return rtext, rhash, self.link(vals)
        except RowError as exc:
            return rtext, rhash, str(exc)

    def _apply(self, raw: RawRow) -> dict[str, str]:
        """`CompiledSpec.apply`, a step's failure naming the column it read."""
        if "__error__" in raw:
            raise RowError(raw["__error__"])
        get, out = raw.get, {}
        for f, c, fn in self.cs.chains:
            try:
                out[f] = fn(get(c) or "")
            except RowError as exc:
                raise RowError(in_column(str(exc), f, c)) from None
        return out

    def _refused(self, exc: RowError, field: str) -> RowError:
        return RowError(in_column(str(exc), field, self.spec.columns.get(field)))

    def registration(self, vals: dict[str, str]) -> SubjectPrep:
        spec = self.spec
        kind_code = vals.get("kind") or spec.subject_kind or ""
        kind = self.kinds.get(kind_code)
        if kind is None:
            raise self._refused(RowError(f"unknown subject kind {kind_code!r}"), "kind")
        name = vals.get("name", "")
        if not name:
            raise self._refused(RowError("missing name"), "name")
        try:
            id_kind, code = identifier(vals)
        except RowError as exc:  # the column of the identifier the row gives (a credit code first)
            raise self._refused(exc, "uscc" if vals.get("uscc") or "resident_id" not in vals else "resident_id") \
                from None
        if id_kind != kind.identifier:
            raise RowError(f"a {kind.code} is identified by {kind.identifier}, the row gives {id_kind}")
        region_code = vals.get("region", "")
        region_id = None
        if region_code:
            region_id = self.regions.get(region_code)
            if region_id is None:
                raise self._refused(RowError(f"unknown region code {region_code!r}"), "region")
        try:
            established = to_date(vals, "established_on", required=False, today=self.today)
        except RowError as exc:
            raise self._refused(exc, "established_on") from None
        attrs = {k[5:]: attribute_value(v) for k, v in vals.items() if k.startswith("attr.")}
        content = short_hash(json.dumps([kind.code, name, code, region_code, vals.get("industry", ""),
                                         str(established or ""), vals.get("address", ""), attrs],
                                        ensure_ascii=False, sort_keys=True))
        rid = code if id_kind == "resident_id" else None
        index = self.keyring.blind_index(rid) if rid else None
        values = [
            kind.code, name, code if id_kind == "uscc" else None,
            self.keyring.encrypt(rid) if rid else None, index, mask_id(rid) if rid else None, region_id,
            vals.get("industry") or None, established.isoformat() if established else None,
            vals.get("address") or None, json.dumps(attrs, ensure_ascii=False), "confirmed", spec.name, content,
        ]
        return id_kind, code, code if index is None else index, content, values

    @staticmethod
    def subject_update(values: list[Any]) -> dict[str, Any]:
        """The fields a registration row sets on a stored subject, from its prepared values."""
        kind, name, _uscc, _rid, _index, _masked, region_id, industry, established, address, attrs = values[:11]
        return {"kind": kind, "name": name, "region_id": region_id, "industry": industry,
                "established_on": dt.date.fromisoformat(established) if established else None,
                "address": address, "attributes": json.loads(attrs)}

    def link(self, vals: dict[str, str]) -> LinkPrep:
        role = vals.get("role", "")
        if role not in ("legal_representative", "principal", "employee"):
            raise self._refused(RowError(f"unknown role {role!r}"), "role")
        try:
            _, firm_code = identifier({"uscc": vals.get("firm_uscc", "")})
        except RowError as exc:
            raise self._refused(exc, "firm_uscc") from None
        try:
            since = to_date(vals, "since", required=False, today=self.today)
        except RowError as exc:
            raise self._refused(exc, "since") from None
        until = None
        if vals.get("until"):  # a term may end in the future (任期至)
            try:
                until = dt.date.fromisoformat(vals["until"])
            except ValueError:
                raise self._refused(RowError(f"until {vals['until']!r} is not a date (add a `date` step to the spec)"),
                                    "until") from None
        if since is not None and until is not None and until < since:
            raise RowError(f"the role ends ({until}) before it begins ({since})")
        dates = (since.isoformat() if since else None, until.isoformat() if until else None)
        try:
            _, pid = identifier({"resident_id": vals.get("person_id", "")})
        except RowError as exc:
            return role, firm_code, None, str(self._refused(exc, "person_id")), *dates
        return role, firm_code, self.keyring.blind_index(pid), None, *dates
