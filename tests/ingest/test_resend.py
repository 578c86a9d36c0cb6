"""A department sends a file again (SQLite and PostgreSQL): the same fact in another form is
a duplicate, not a second record, for a source whose spec names no natural key (every
utility spec); records stored when such keys were the raw row's hash are still found;
rows refused before are checked again — refused again with their reason, or taken in
now that they pass — never counted as duplicates of rows that were never stored; a
negative amount is refused; and a refused row's reason names the file's column."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select, update

from creditgov import bootstrap
from creditgov.core.db import session_scope
from creditgov.ingest import service
from creditgov.ingest.models import Batch, QuarantinedRow
from creditgov.ingest.prepare_records import fact_key, raw_key
from creditgov.ingest.reasons import reason_code, reason_detail
from creditgov.records.models import CreditRecord
from creditgov.security.crypto import KeyRing

SOURCE = "utility_arrears_firms"
SPEC = f"""name: {SOURCE}
version: "1"
title: 供水供电公司 水电费逾期(单位)
department: utility
kind: records
file: utility_arrears*.csv
format: csv
columns: {{uscc: 证件号码, name: 户名, occurred_on: 账单日期, value: 欠费金额(元), decided_on: 催缴日期}}
steps:
  - {{field: "*", op: trim}}
  - {{field: "*", op: halfwidth}}
  - {{field: uscc, op: upper}}
  - {{field: occurred_on, op: date}}
  - {{field: decided_on, op: date}}
  - {{field: value, op: number}}
item: utility.arrears
items: [utility.arrears]
unknown_subject: quarantine
"""
HEADER = "户号,证件号码,户名,账单日期,欠费金额(元),催缴日期"
GREEN, INN = "91330522MA2B00010N", "91330522MA2B00030Q"  # firms the mini county registers


def _county(mini: Path, *rows: str) -> Path:
    """The mini county with a utility arrears source (no natural key, as every shipped
    utility spec) and its first file."""
    (mini / "specs" / f"{SOURCE}.yaml").write_text(SPEC, "utf-8")
    requests = mini / "data_requests.yaml"
    requests.write_text(requests.read_text("utf-8") + "  - {item: utility.arrears, department: utility, "
                        "status: approved, requested_on: 2025-01-10, decided_on: 2025-01-20}\n", "utf-8")
    _file(mini, "utility_arrears_2026-09.csv", *rows)
    return mini


def _file(mini: Path, name: str, *rows: str) -> Path:
    path = mini / "data" / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", "utf-8")
    return path


def _records(store: str) -> list[tuple[str, str, str]]:
    with session_scope(store) as s:
        return [(str(v), nk, ch) for v, nk, ch in s.execute(
            select(CreditRecord.value, CreditRecord.natural_key, CreditRecord.content_hash)
            .where(CreditRecord.source == SOURCE).order_by(CreditRecord.id))]


def _run(store: str, keyring: KeyRing, mini: Path) -> list[dict]:
    return service.ingest_paths(store, keyring, [mini / "specs" / f"{SOURCE}.yaml"], actor="test").batches


def test_the_same_fact_in_another_form_is_a_duplicate(store: str, keyring: KeyRing, mini: Path) -> None:
    _county(mini, f"100000001,{GREEN},长兴绿源纺织有限公司,2026-08-01,1234.5,2026-09-15",
            f"100000003,{INN},长兴山居民宿有限公司,2026-08-01,88,2026-09-15")
    service.ingest_paths(store, keyring, [mini], actor="test")
    first = _records(store)
    assert [v for v, _nk, _ch in first] == ["1234.50", "88.00"]
    # the fact is the key: the source, the subject, item, dates and the value as parsed
    assert all(nk == fact_key(SOURCE, ch) for _v, nk, ch in first)
    # Sent again: two decimals, another date form, full-width digits, spaces, another
    # account-number column the spec does not read — the same two facts.
    (mini / "data" / "utility_arrears_2026-09.csv").unlink()
    _file(mini, "utility_arrears_2026-09-again.csv",
          f"A-100000001, {GREEN} ,长兴绿源纺织有限公司,2026年8月1日,1234.50,2026/9/15",
          f"A-100000003,{INN},长兴山居民宿有限公司,20260801,８８.００,2026-09-15")
    (again,) = _run(store, keyring, mini)
    assert (again["read"], again["accepted"], again["duplicates"], again["rejected"]) == (2, 0, 2, 0)
    assert _records(store) == first
    # Another amount is another fact: without a natural key nothing says it corrects the first.
    _file(mini, "utility_arrears_2026-09-again.csv",
          f"100000001,{GREEN},长兴绿源纺织有限公司,2026-08-01,1300,2026-09-15",
          f"100000001,{GREEN},长兴绿源纺织有限公司,2026-08-01,1300.00,2026-09-15")  # twice in one file
    (other,) = _run(store, keyring, mini)
    assert (other["accepted"], other["duplicates"], other["corrected"]) == (1, 1, 0)
    assert [v for v, _nk, _ch in _records(store)] == ["1234.50", "88.00", "1300.00"]


def test_records_stored_under_the_raw_rows_key_are_still_found(store: str, keyring: KeyRing, mini: Path) -> None:
    """A store written when a record without a natural key was keyed by its raw row's hash
    keeps those keys (other platforms know the records by them): the same file sent
    again still finds each record, a duplicate, its key unchanged."""
    _county(mini, f"100000001,{GREEN},长兴绿源纺织有限公司,2026-08-01,1234.5,2026-09-15",
            f"100000003,{INN},长兴山居民宿有限公司,2026-08-01,88,2026-09-15")
    service.ingest_paths(store, keyring, [mini], actor="test")
    with session_scope(store) as s:  # the keys as they were written then
        for rid, raw_hash in s.execute(select(CreditRecord.id, CreditRecord.raw_hash)
                                       .where(CreditRecord.source == SOURCE)).all():
            s.execute(update(CreditRecord).where(CreditRecord.id == rid)
                      .values(natural_key=raw_key(SOURCE, raw_hash)))
    before = _records(store)
    assert all(nk != fact_key(SOURCE, ch) for _v, nk, ch in before)
    (again,) = _run(store, keyring, mini)
    assert (again["accepted"], again["duplicates"], again["corrected"], again["rejected"]) == (0, 2, 0, 0)
    assert _records(store) == before
    # a new fact next to them is keyed by its fact
    _file(mini, "utility_arrears_2026-10.csv", f"100000001,{GREEN},长兴绿源纺织有限公司,2026-09-01,99,2026-10-15")
    batches = _run(store, keyring, mini)
    assert [(b["accepted"], b["duplicates"]) for b in batches] == [(0, 2), (1, 0)]
    assert _records(store)[:2] == before and _records(store)[2][1] == fact_key(SOURCE, _records(store)[2][2])


def test_rows_refused_before_are_checked_again_when_sent_again(store: str, keyring: KeyRing, mini: Path) -> None:
    first = service.ingest_paths(store, keyring, [mini], actor="test")
    assert first.counts.rejected == 7
    with session_scope(store) as s:
        earlier = {q.id: (q.source, q.reason) for q in s.execute(select(QuarantinedRow)).scalars()}
    # The same folder again: each refused row is refused again with its reason, in the new batch.
    again = service.ingest_paths(store, keyring, [mini], actor="test")
    assert again.counts.rejected == 7 and again.counts.accepted == 0
    penalties = next(b for b in again.batches if b["source"] == "market_penalties")
    # 9 rows: 4 stored before (one of them twice in the file), 4 refused again, 1 filtered
    assert (penalties["read"], penalties["accepted"], penalties["rejected"], penalties["duplicates"],
            penalties["filtered"]) == (9, 0, 4, 4, 1)
    with session_scope(store) as s:
        rows = list(s.execute(select(QuarantinedRow).order_by(QuarantinedRow.id)).scalars())
        now = {q.id: q for q in rows if q.id not in earlier}
        assert sorted((q.source, q.reason) for q in now.values()) == sorted(earlier.values())
        assert {q.status for q in now.values()} == {"open"}
        resent = [q for q in rows if q.id in earlier]
        batch_of = {q.batch_id: q.source for q in now.values()}
        assert all(q.status == "resent" and q.resolved_batch_id in batch_of
                   and batch_of[q.resolved_batch_id] == q.source for q in resent)
        assert service.count_open_quarantine(s) == 7
        unregistered = next(q.id for q in now.values() if q.source == "market_penalties"
                            and reason_code(q.reason) == "unregistered")
    # The firm a row named is registered since: the row sent again goes in, its entry resolved.
    reg = mini / "data" / "market_registration.csv"
    reg.write_bytes(reg.read_bytes() + "91330522MA2B00770L,未登记公司,企业,CX-S01-G01-M01,retail,2020-01-01,1\n"
                    .encode("gbk"))
    third = service.ingest_paths(store, keyring, [mini], actor="test")
    penalties = next(b for b in third.batches if b["source"] == "market_penalties")
    assert (penalties["accepted"], penalties["rejected"]) == (1, 3)
    with session_scope(store) as s:
        q = s.get(QuarantinedRow, unregistered)
        assert q is not None and (q.status, q.resolved_batch_id) == ("resolved", penalties["batch"])
        assert s.execute(select(func.count()).select_from(CreditRecord).where(
            CreditRecord.document_no == "长市监罚〔2025〕5号")).scalar_one() == 1
        assert service.count_open_quarantine(s) == 6
        batch = s.get(Batch, penalties["batch"])
        assert batch is not None and (batch.accepted, batch.rejected, batch.duplicates) == (1, 3, 4)


def test_a_refused_rows_reason_names_the_files_column(store: str, keyring: KeyRing, mini: Path) -> None:
    bootstrap.wire()
    _county(mini, f"100000001,{GREEN},长兴绿源纺织有限公司,,12,2026-09-15",
            f"100000002,{GREEN},长兴绿源纺织有限公司,11/09/2026,12,2026-09-15",
            f"100000003,{INN},长兴山居民宿有限公司,2026-08-01,-5,2026-09-15",
            f"100000004,{INN},长兴山居民宿有限公司,2026-08-01,1百,2026-09-15",
            f"100000005,{INN},长兴山居民宿有限公司,2026-08-01,5,2026-09-15")
    r = service.ingest_paths(store, keyring, [mini], actor="test")
    arrears = next(b for b in r.batches if b["source"] == SOURCE)
    assert (arrears["accepted"], arrears["rejected"]) == (1, 4)
    with session_scope(store) as s:
        reasons = {q.line_no: q.reason for q in s.execute(
            select(QuarantinedRow).where(QuarantinedRow.source.in_([SOURCE, "market_registration"]))).scalars()}
    assert reasons[2] == "missing occurred_on (column '账单日期', field occurred_on)"
    said = {line: (reason_code(t), reason_detail(t, "zh"), reason_detail(t, "en")) for line, t in reasons.items()}
    assert said[2] == ("missing_value", "缺少“账单日期（发生日期）”", "“账单日期 (Occurred on)” is missing")
    assert said[3] == ("bad_date", "“账单日期”（发生日期）：无法识别日期“11/09/2026”",
                       "“账单日期” (Occurred on): “11/09/2026” is not a date in a known form")
    # a negative amount of an item whose amounts never are
    assert said[4] == ("bad_number", "“欠费金额(元)”（金额或数值）：“水电费逾期缴纳”的数值不能小于零，本行为 -5.00",
                       "“欠费金额(元)” (Amount or value): a value of “Late utility payment” is never below zero; "
                       "the row gives -5.00")
    assert said[5] == ("bad_number", "“欠费金额(元)”（金额或数值）：“1百”不是数字",
                       "“欠费金额(元)” (Amount or value): “1百” is not a number")
    # a registration row too (the mini county's row of an unknown grid, line 6)
    assert said[6] == ("unknown_code", "“所属网格”（所属区域）：没有代码为“CX-S09-G09-M09”的区域",
                       "“所属网格” (Region): there is no region with the code “CX-S09-G09-M09”")
