"""The synthetic county generator: reproducible, valid against the contract, dirty on purpose.

The files are read back the way ingestion will read them (each spec's format, encoding,
sheet and column names) so the checks are about what ingestion will actually see.
"""

from __future__ import annotations

import csv
import hashlib
import json
import time
import unicodedata
from collections import Counter
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml
from stdnum.cn import ric, uscc

from creditgov.catalog.schemas import CatalogFile, DataRequestFile
from creditgov.demo.county import generate
from creditgov.ingest.schemas import Manifest, SourceSpec
from creditgov.subjects.schemas import RegionFile

N = 1000
SEED = 7
UNAPPROVED = "police.traffic_violation"
REJECTED = {"police.case", UNAPPROVED, "housing.fund_arrears", "agriculture.quality_fail", "civility.model_worker",
            "civility.charity"}
# 40 requested / 34 approved / 6 rejected: one approval per item the sources produce (34),
# so the paper's example (32 / 26) cannot hold once loans, lawsuits and disputes come in.
REQUESTED, APPROVED = 40, 34  # with the four ratings (docs/ratings.md)


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], float]:
    out = tmp_path_factory.mktemp("county")
    t0 = time.perf_counter()
    summary = generate(out, subjects=N, seed=SEED)
    return out, summary, time.perf_counter() - t0


@pytest.fixture(scope="module")
def folder(county: tuple[Path, dict[str, Any], float]) -> Path:
    return county[0]


@pytest.fixture(scope="module")
def summary(county: tuple[Path, dict[str, Any], float]) -> dict[str, Any]:
    return county[1]


@pytest.fixture(scope="module")
def specs(folder: Path) -> dict[str, SourceSpec]:
    out = {}
    for path in sorted((folder / "specs").glob("*.yaml")):
        spec = SourceSpec.model_validate(yaml.safe_load(path.read_text("utf-8")))
        out[spec.name] = spec
    return out


@pytest.fixture(scope="module")
def catalog() -> CatalogFile:
    text = resources.files("creditgov.catalog").joinpath("data/catalog.yaml").read_text("utf-8")
    return CatalogFile.model_validate(yaml.safe_load(text))


@pytest.fixture(scope="module")
def requests(folder: Path) -> DataRequestFile:
    return DataRequestFile.model_validate(yaml.safe_load((folder / "data_requests.yaml").read_text("utf-8")))


def hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def rows(folder: Path, spec: SourceSpec) -> Iterator[dict[str, Any]]:
    """Raw rows of a spec's file(s), keyed by the source's own column names."""
    paths = sorted((folder / "data").glob(spec.file))
    assert paths, f"{spec.name}: no file matches {spec.file}"
    for path in paths:
        if spec.format == "csv":
            with open(path, encoding=spec.encoding, newline="") as fh:
                yield from csv.DictReader(fh, delimiter=spec.delimiter)
        elif spec.format == "jsonl":
            with open(path, encoding=spec.encoding) as fh:
                for line in fh:
                    yield json.loads(line)
        else:
            wb = openpyxl.load_workbook(path, read_only=True)
            it = wb[spec.sheet or wb.sheetnames[0]].iter_rows(values_only=True)
            header = next(it)
            for r in it:
                yield dict(zip(header, r, strict=False))
            wb.close()


def clean(value: Any) -> str:
    """What trim + halfwidth make of a cell (NFKC folds full-width digits)."""
    return unicodedata.normalize("NFKC", "" if value is None else str(value)).strip().upper()


def item_map(spec: SourceSpec) -> dict[str, str] | None:
    return next((s.map for s in spec.steps if s.field == "item" and s.op == "map"), None)


# --------------------------------------------------------------------------- reproducibility

def test_same_seed_gives_identical_files_and_another_seed_does_not(folder: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    generate(again, subjects=N, seed=SEED)
    assert hashes(again) == hashes(folder)
    other = tmp_path / "other"
    generate(other, subjects=N, seed=SEED + 1)
    a, b = hashes(folder), hashes(other)
    assert a.keys() == b.keys()  # the same set of files, whatever the seed
    assert sum(a[k] != b[k] for k in a if k.startswith("data/")) == sum(1 for k in a if k.startswith("data/"))


def test_runs_quickly(county: tuple[Path, dict[str, Any], float]) -> None:
    assert county[2] < 15, f"1,000 subjects took {county[2]:.1f}s"


# --------------------------------------------------------------------------- the contract

def test_folder_validates_against_the_schemas(folder: Path, summary: dict[str, Any],
                                              specs: dict[str, SourceSpec], requests: DataRequestFile) -> None:
    manifest = Manifest.model_validate(yaml.safe_load((folder / "manifest.yaml").read_text("utf-8")))
    assert (manifest.regions, manifest.data_requests, manifest.specs, manifest.data_dir) == (
        "regions.yaml", "data_requests.yaml", ["specs/*.yaml"], "data")
    regions = RegionFile.model_validate(yaml.safe_load((folder / "regions.yaml").read_text("utf-8")))
    assert regions.levels == ["county", "street", "grid", "micro_grid"]
    assert len(specs) >= 20
    assert len({s.department for s in specs.values()}) >= 10
    formats = {(s.format, s.encoding) for s in specs.values()}
    for want in [("csv", "utf-8"), ("csv", "gbk"), ("csv", "gb18030"), ("xlsx", "utf-8"), ("jsonl", "utf-8")]:
        assert want in formats
    statuses = Counter(r.status for r in requests.requests)
    assert len(requests.requests) == REQUESTED and statuses == {"approved": APPROVED, "rejected": 6}
    assert summary["requests"] == {"total": REQUESTED, "approved": APPROVED, "rejected": 6}
    assert len({(r.item, r.department) for r in requests.requests}) == REQUESTED  # one request per item
    assert sorted(summary["files"]) == sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_regions_are_a_hierarchy_and_subjects_sit_in_micro_grids(folder: Path, specs: dict[str, SourceSpec]) -> None:
    regions = RegionFile.model_validate(yaml.safe_load((folder / "regions.yaml").read_text("utf-8"))).regions
    by_code = {r.code: r for r in regions}
    assert len(by_code) == len(regions)
    levels = Counter(r.level for r in regions)
    assert levels["county"] == 1 and levels["street"] == 6
    for r in regions:
        if r.parent:
            assert r.code.startswith(r.parent + "-")
    names = [r.name for r in regions if r.level == "street"]
    assert "工业园区" in names and any(n.endswith("镇") for n in names)
    micro = {r.code for r in regions if r.level == "micro_grid"}
    for name in ("market_registration", "grid_households"):
        col = specs[name].columns["region"]
        assert {r[col] for r in rows(folder, specs[name])} <= micro


def test_items_are_catalogued_and_approved_for_their_department(
        specs: dict[str, SourceSpec], catalog: CatalogFile, requests: DataRequestFile) -> None:
    items = {i.code: i for i in catalog.items}
    departments = {d.code for d in catalog.departments}
    status = {(r.item, r.department): r.status for r in requests.requests}
    assert status[("police.case", "police")] == "rejected"
    assert items["police.case"].data_class == "secret"
    assert status[(UNAPPROVED, "police")] == "rejected"
    assert {i for (i, _d), s in status.items() if s == "rejected"} == REJECTED
    for item in ("finance.loan", "finance.overdue", "court.lawsuit", "grid.dispute"):
        assert status[(item, item.split(".")[0])] == "approved", item
    for r in requests.requests:
        assert r.item in items and items[r.item].department == r.department
    used = set()
    for spec in specs.values():
        assert spec.department in departments
        if spec.kind != "records":
            continue
        m = item_map(spec)
        produced = set(m.values()) if m else {spec.item}
        assert produced <= set(spec.items), spec.name
        for item in spec.items:
            assert item in items, item
            assert items[item].department == spec.department
            want = "rejected" if item == UNAPPROVED else "approved"
            assert status.get((item, spec.department)) == want, (spec.name, item)
            used.add(item)
    assert UNAPPROVED in used
    approved = {i for (i, _d), s in status.items() if s == "approved"}
    assert approved == used - {UNAPPROVED}  # every approval is exercised by some source
    assert {"finance.loan", "finance.overdue", "court.lawsuit", "grid.dispute"} <= used


def test_item_codes_in_files_map_except_the_counted_unknown_ones(
        folder: Path, specs: dict[str, SourceSpec], summary: dict[str, Any]) -> None:
    for spec in specs.values():
        m = item_map(spec)
        if spec.kind != "records" or not m:
            continue
        unknown = sum(clean(r[spec.columns["item"]]) not in m for r in rows(folder, spec))
        counted = sum(summary["dirt_by_file"][f].get("unknown_codes", 0)
                      for f, s in summary["file_spec"].items() if s == spec.name)
        assert counted >= 1 and unknown >= counted, spec.name
        assert unknown <= counted * 1.1 + 1, spec.name  # only a repeated counted row adds more


# --------------------------------------------------------------------------- identifiers and dirt

def test_registration_identifiers_are_valid(folder: Path, specs: dict[str, SourceSpec]) -> None:
    reg = specs["market_registration"]
    codes = [clean(r[reg.columns["uscc"]]) for r in rows(folder, reg)]
    assert all(uscc.is_valid(c) for c in codes) and len(set(codes)) == len(codes)
    hh = specs["grid_households"]
    ids = [clean(r[hh.columns["resident_id"]]) for r in rows(folder, hh)]
    assert all(ric.is_valid(c) for c in ids) and len(set(ids)) == len(ids)
    links = specs["market_links"]
    known = set(ids)
    assert all(clean(r[links.columns["person_id"]]) in known for r in rows(folder, links))


def test_about_one_percent_of_record_identifiers_are_invalid(
        folder: Path, specs: dict[str, SourceSpec], summary: dict[str, Any]) -> None:
    total = bad = fullwidth = 0
    for spec in specs.values():
        if spec.kind != "records" or spec.item == UNAPPROVED:
            continue
        for r in rows(folder, spec):
            # A spec may carry both columns (lawsuits: firms and residents); a row fills one.
            uscc_raw = r.get(spec.columns["uscc"]) if "uscc" in spec.columns else None
            if uscc_raw not in (None, ""):
                raw, check = str(uscc_raw), uscc.is_valid
            else:
                raw, check = str(r[spec.columns["resident_id"]]), ric.is_valid
            total += 1
            bad += not check(clean(raw))
            fullwidth += raw != unicodedata.normalize("NFKC", raw)
    assert 0.006 < bad / total < 0.016, bad / total
    assert bad >= summary["dirt"]["bad_identifiers"]  # duplicated bad rows count twice when read
    assert fullwidth > 0 and summary["dirt"]["fullwidth_identifiers"] > 0


def test_all_five_date_forms_occur(folder: Path, specs: dict[str, SourceSpec]) -> None:
    import re
    forms = {
        "cn": re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日$"), "compact": re.compile(r"^\d{8}$"),
        "slash": re.compile(r"^\d{4}/\d{1,2}/\d{1,2}$"), "iso": re.compile(r"^\d{4}-\d{2}-\d{2}$"),
        "dot": re.compile(r"^\d{4}\.\d{1,2}\.\d{1,2}$"),
    }
    seen = set()
    for spec in specs.values():
        dates = [s.field for s in spec.steps if s.op == "date"]
        for r in rows(folder, spec):
            for f in dates:
                v = str(r[spec.columns[f]])
                seen |= {k for k, rx in forms.items() if rx.match(v)}
    assert seen == set(forms)


def test_dirt_is_present_and_counted(folder: Path, specs: dict[str, SourceSpec], summary: dict[str, Any]) -> None:
    dirt = summary["dirt"]
    assert dirt["duplicate_rows"] > 0 and dirt["fullwidth_amounts"] > 0
    assert dirt["unapproved_rows"] >= 20
    assert dirt["overlap_rows"] >= 1
    assert summary["dirt_by_file"]["market_complaints.jsonl"]["unregistered_subjects"] >= 3
    assert summary["dirt_by_file"]["opinion_mentions.jsonl"]["unregistered_subjects"] >= 3
    assert summary["dirt_by_file"]["court_enforcement_2022_2026.csv"]["unregistered_subjects"] >= 3
    assert specs["court_enforcement"].unknown_subject == "provisional"
    assert specs["opinion_mentions"].unknown_subject == "provisional"
    assert specs["market_complaints"].unknown_subject == "quarantine"
    # The supplement repeats rows of the main court file verbatim (same case numbers).
    court = specs["court_enforcement"]
    docs = Counter(r[court.columns["document_no"]] for r in rows(folder, court))
    assert sum(n - 1 for n in docs.values()) >= dirt["overlap_rows"]
    # Unregistered subjects really are unregistered.
    reg = specs["market_registration"]
    registered = {clean(r[reg.columns["uscc"]]) for r in rows(folder, reg)}
    comp = specs["market_complaints"]
    strangers = {clean(r[comp.columns["uscc"]]) for r in rows(folder, comp)} - registered
    valid_strangers = {c for c in strangers if uscc.is_valid(c)}
    assert len(valid_strangers) == summary["dirt_by_file"]["market_complaints.jsonl"]["unregistered_subjects"]
    # Exact repeated rows in a records file without a natural key.
    ar = specs["market_annual_reports"]
    seen = Counter(tuple(r.values()) for r in rows(folder, ar))
    assert sum(n - 1 for n in seen.values()) == summary["dirt_by_file"]["market_annual_reports.csv"].get(
        "duplicate_rows", 0)


# --------------------------------------------------------------------------- distributions

def test_subject_mix(folder: Path, specs: dict[str, SourceSpec], summary: dict[str, Any]) -> None:
    counts = summary["subjects"]
    assert sum(counts.values()) == N
    for kind, share in {"individual": .55, "merchant": .20, "enterprise": .15, "homestay": .06,
                        "social_org": .04}.items():
        assert abs(counts[kind] / N - share) < 0.01, kind
    reg = specs["market_registration"]
    kind_map = next(s.map for s in reg.steps if s.field == "kind" and s.op == "map")
    seen = Counter(kind_map[r[reg.columns["kind"]]] for r in rows(folder, reg))
    assert seen == {k: v for k, v in counts.items() if k != "individual"}
    hh = specs["grid_households"]
    assert sum(1 for _ in rows(folder, hh)) == counts["individual"]
    industries = Counter(r[reg.columns["industry"]] for r in rows(folder, reg))
    assert {"童装", "电子商务", "民宿", "制造业", "餐饮", "零售", "建筑业", "农业", "物流"} <= set(industries)


def test_every_firm_has_a_legal_representative(folder: Path, specs: dict[str, SourceSpec]) -> None:
    reg, links = specs["market_registration"], specs["market_links"]
    role_map = next(s.map for s in links.steps if s.field == "role" and s.op == "map")
    firms = {clean(r[reg.columns["uscc"]]) for r in rows(folder, reg)}
    roles: dict[str, set[str]] = {}
    for r in rows(folder, links):
        roles.setdefault(clean(r[links.columns["firm_uscc"]]), set()).add(role_map[r[links.columns["role"]]])
    assert all("legal_representative" in roles.get(f, set()) for f in firms)
    assert sum("employee" in v for v in roles.values()) > 0.2 * len(firms)
    assert sum("principal" in v for v in roles.values()) > 0.05 * len(firms)


def test_volumes_and_grades_are_plausible(folder: Path, specs: dict[str, SourceSpec], summary: dict[str, Any]) -> None:
    per_subject = summary["record_rows"] / N
    assert 13 <= per_subject <= 25, per_subject
    firms = N - summary["subjects"]["individual"]
    bills = summary["records"]["utility_bills_firms.csv"]
    assert 11 * firms <= bills <= 12.3 * firms
    tax = specs["tax_credit_grades"]
    grades = Counter(r[tax.columns["grade"]] for r in rows(folder, tax))
    total = sum(grades.values())
    for g, (lo, hi) in {"A": (.25, .45), "B": (.30, .50), "M": (.05, .20), "C": (.04, .17), "D": (.01, .10)}.items():
        assert lo <= grades[g] / total <= hi, (g, grades)
    tour = specs["tourism_homestay_checks"]
    scores = [float(clean(r[tour.columns["value"]])) for r in rows(folder, tour)]
    assert all(0 <= s <= 100 for s in scores)
    assert 0.6 < sum(80 <= s <= 98 for s in scores) / len(scores) and any(s < 85 for s in scores)


# --------------------------------------------------------------------------- loans, lawsuits, disputes

def test_loans_and_overdue_loans(folder: Path, specs: dict[str, SourceSpec], summary: dict[str, Any]) -> None:
    import datetime as dt

    loans, od = specs["finance_loans"], specs["finance_overdue"]
    assert (loans.department, loans.format, loans.encoding, loans.item) == ("finance", "csv", "gb18030", "finance.loan")
    assert (od.department, od.format, od.items) == ("finance", "xlsx", ["finance.overdue"])
    assert loans.natural_key == od.natural_key == ["document_no"]
    # Amounts in 万元, scaled to 元 by the spec.
    assert "万元" in loans.columns["value"]
    assert [s.scale for s in loans.steps if s.field == "value" and s.op == "number"] == [10000]

    as_of = dt.date.fromisoformat(summary["as_of"])
    by_contract: dict[str, tuple[str, dt.date, float]] = {}
    per_borrower: dict[str, set[str]] = {}
    for r in rows(folder, loans):
        code, contract = clean(r[loans.columns["uscc"]]), r[loans.columns["document_no"]]
        day = dt.date.fromisoformat(f"{r['放款日期'][:4]}-{r['放款日期'][4:6]}-{r['放款日期'][6:]}")
        assert as_of.replace(year=as_of.year - 3) <= day < as_of
        by_contract[contract] = (code, day, float(clean(r[loans.columns["value"]])) * 10000)
        per_borrower.setdefault(code, set()).add(contract)
    assert all(1 <= len(c) <= 3 for c in per_borrower.values())
    firms = summary["subjects"]["enterprise"] + summary["subjects"]["merchant"] + summary["subjects"]["homestay"]
    assert 0.17 < len(per_borrower) / firms < 0.33, len(per_borrower) / firms

    overdue = list(rows(folder, od))
    assert 1 <= len(overdue) <= 0.1 * len(by_contract)
    m = item_map(od)
    assert m and set(m.values()) == {"finance.overdue"}
    for r in overdue:
        contract = r["原贷款合同编号"]
        assert r[od.columns["document_no"]] == contract + "-OD"
        code, day, amount = by_contract[contract]
        assert day < dt.date.fromisoformat(r[od.columns["occurred_on"]]) < as_of
        assert 0 < float(clean(r[od.columns["value"]]).replace(",", "")) <= amount


def test_lawsuits_name_firms_and_residents_as_defendants(
        folder: Path, specs: dict[str, SourceSpec], summary: dict[str, Any]) -> None:
    law = specs["court_lawsuits"]
    assert (law.department, law.item, law.natural_key) == ("court", "court.lawsuit", ["document_no"])
    assert {"uscc", "resident_id", "value", "document_no"} <= set(law.columns)
    firm_rows = person_rows = 0
    docs: dict[str, tuple[Any, ...]] = {}
    for r in rows(folder, law):
        has_firm, has_person = bool(r[law.columns["uscc"]]), bool(r[law.columns["resident_id"]])
        assert has_firm != has_person  # exactly one defendant identifier per row
        firm_rows += has_firm
        person_rows += has_person
        row = tuple(r.values())
        assert docs.setdefault(r[law.columns["document_no"]], row) == row  # repeats are exact repeats
        assert float(clean(r[law.columns["value"]])) > 0
    firms = summary["subjects"]["enterprise"] + summary["subjects"]["merchant"] + summary["subjects"]["homestay"]
    assert 0.015 < firm_rows / firms < 0.06, firm_rows / firms
    assert 1 <= person_rows <= 0.015 * summary["subjects"]["individual"]
    # Banks sue only over loans that went overdue (by name: either file may break a check digit).
    od = specs["finance_overdue"]
    overdue = {r[od.columns["name"]] for r in rows(folder, od)}
    for r in rows(folder, law):
        if r[law.columns["text"]] == "金融借款合同纠纷":
            assert r[law.columns["name"]] in overdue


def test_neighbourhood_disputes_come_with_the_grid_events(
        folder: Path, specs: dict[str, SourceSpec], summary: dict[str, Any]) -> None:
    grid = specs["grid_events"]
    m = item_map(grid)
    assert m and "grid.dispute" in grid.items
    disputes = {clean(r[grid.columns["resident_id"]]) for r in rows(folder, grid)
                if m.get(clean(r[grid.columns["item"]])) == "grid.dispute"}
    assert 0.003 < len(disputes) / summary["subjects"]["individual"] < 0.02


def test_earlier_deliveries_are_folders_of_their_own(folder: Path, specs: dict[str, SourceSpec],
                                                     summary: dict[str, Any]) -> None:
    """`deliveries/<day>/`: three monthly bill files under the load's own spec (so they
    register as the same version), two monthly dispute reports that then stop, and three
    monthly court case reports whose last is dirty: a rejection spike (issue 19)."""
    from creditgov.ingest.service import plan

    days = summary["deliveries"]
    reg = specs["market_registration"]
    registered = {clean(r[reg.columns["uscc"]]) for r in rows(folder, reg)}
    assert sorted(p.name for p in (folder / "deliveries").iterdir()) == list(days)
    by_source: dict[str, list[str]] = {}
    for day, sources in days.items():
        plans, setup = plan([folder / "deliveries" / day])
        assert setup == [] and [p.spec.name for p in plans] == list(sources)
        for p in plans:
            by_source.setdefault(p.spec.name, []).append(day)
            got = [r for f in p.files for r in csv.DictReader(f.read_text(p.spec.encoding).splitlines())]
            assert len(got) == sources[p.spec.name] and all(f.stat().st_size for f in p.files)
            if p.spec.name == "utility_bills_firms":
                assert p.text == (folder / "specs" / "utility_bills_firms.yaml").read_text("utf-8")
                months = {r[p.spec.columns["occurred_on"]] for r in got}
                assert len(months) == 1 and months.pop() < day.replace("-", "")   # billed before it came
            elif p.spec.name == "court_lawsuits_monthly":
                bad = [r for r in got if not uscc.is_valid(clean(r[p.spec.columns["uscc"]]))]
                strangers = [r for r in got if clean(r[p.spec.columns["uscc"]]) not in registered and r not in bad]
                assert len(bad) + len(strangers) == summary["deliveries_dirt"][day]["court_lawsuits_monthly"]
            else:
                assert all(ric.is_valid(clean(r[p.spec.columns["resident_id"]])) for r in got)
    assert by_source["utility_bills_firms"] == ["2025-09-07", "2025-10-06", "2025-11-05"]
    assert by_source["court_lawsuits_monthly"] == ["2026-08-07", "2026-09-07", "2026-10-07"]
    assert [summary["deliveries_dirt"][d]["court_lawsuits_monthly"] for d in by_source["court_lawsuits_monthly"]] == \
        [1, 1, round(days["2026-10-07"]["court_lawsuits_monthly"] * 0.3)]
    assert by_source["grid_disputes_monthly"] == ["2026-08-04", "2026-09-04"]   # then nothing: late on 1 November
    assert "grid_disputes_monthly" not in specs                                  # not in the load's folder
    assert 10 * days["2025-11-05"]["utility_bills_firms"] < summary["records"]["utility_bills_firms.csv"]
