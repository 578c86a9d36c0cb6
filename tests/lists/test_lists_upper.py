"""Lists flowing down from the upper platform: imported through a spec written in the
ingestion language, kept apart (origin 'upper', with their source), exited only by
the platform."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from tests.lists.helpers import make_subject

from creditgov.core import db
from creditgov.core.errors import InvalidInput
from creditgov.lists import exits as list_exits
from creditgov.lists import queries as list_queries
from creditgov.lists import upper as list_upper
from creditgov.security.crypto import KeyRing

SPEC = """\
name: xinyong_zhejiang_lists
version: "1"
title: 信用浙江 下发名单
source: xinyong-zhejiang
format: csv
columns:
  list_code: 名单类型
  uscc: 统一社会信用代码
  decision_no: 认定文书号
  basis: 列入事由
  identifying_unit: 认定部门
  published_on: 列入日期
  expires_on: 公示截止日期
  exited_on: 移出日期
steps:
  - {field: "*", op: trim}
  - {field: uscc, op: upper}
  - {field: published_on, op: date}
  - {field: expires_on, op: date}
  - {field: exited_on, op: date}
list_map:
  严重失信主体名单: serious-dishonesty
  红名单: red
"""

HEADER = "名单类型,统一社会信用代码,认定文书号,列入事由,认定部门,列入日期,公示截止日期,移出日期\n"


def test_upper_lists_import_apart_and_exit_only_by_the_platform(county: str, tmp_path: Path,
                                                                 keyring: KeyRing) -> None:
    spec = tmp_path / "upper.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    with db.session_scope(county) as s:
        a, b = make_subject(s), make_subject(s)
        ua, ub = str(a.uscc), str(b.uscc)
        aid = a.id
    data = tmp_path / "lists.csv"
    data.write_text(
        HEADER
        + f"严重失信主体名单,{ua},浙发改认〔2026〕1号,拖欠农民工工资,省人社厅,2026年9月1日,2029-09-01,\n"
        + f"红名单,{ub.lower()},浙红〔2026〕2号,纳税信用A级,省税务局,2026/8/15,,\n"
        + "红名单,91330100MA0000001F,浙红〔2026〕3号,x,省税务局,2026-08-15,,\n"
        + f"经营异常名录,{ua},x,x,x,2026-08-15,,\n", encoding="utf-8")
    with db.session_scope(county) as s:
        res = list_upper.import_upper(s, keyring, spec_path=spec, file=data, actor="exchange")
        assert (res.read, res.added, res.rejected) == (4, 2, 2)
        assert set(res.reasons) == {"subject not registered in the county",
                                    "unknown list '经营异常名录' (map it with list_map)"}
        (e,) = list_queries.entries(s, subject_id=aid)
        assert (e.origin, e.source, e.status, e.list_code) == ("upper", "xinyong-zhejiang", "published",
                                                               "serious-dishonesty")
        assert e.published_on == dt.date(2026, 9, 1) and e.expires_on == dt.date(2029, 9, 1)
        assert [x.list_code for x in list_queries.active_entries(s, aid)] == ["serious-dishonesty"]
        assert list_queries.entries(s, origin="local") == []
        # local procedures never touch an upper entry
        with pytest.raises(InvalidInput, match="upper platform"):
            list_exits.exit_entry(s, entry_id=e.id, kind="manual", reason="local officer")
        entry_id = e.id
    with db.session_scope(county) as s:
        again = list_upper.import_upper(s, keyring, spec_path=spec, file=data)
        assert (again.added, again.duplicates, again.exited) == (0, 2, 0)
    data.write_text(HEADER + f"严重失信主体名单,{ua},浙发改认〔2026〕1号,拖欠农民工工资,省人社厅,2026-09-01,"
                    "2029-09-01,2026-10-20\n", encoding="utf-8")
    with db.session_scope(county) as s:
        out = list_upper.import_upper(s, keyring, spec_path=spec, file=data)
        assert (out.added, out.exited) == (0, 1)
        detail = list_queries.entry_detail(s, entry_id)
        assert detail["status"] == "exited" and detail["exit_kind"] == "upper"
        assert detail["exited_on"] == "2026-10-20"
        assert [h["step"] for h in detail["history"]] == ["import", "exit"]
        assert list_queries.active_entries(s, aid) == []
