"""Hostile text for the rendering tests: firm names and record texts made of markup,
quotes, image tags pointing at a local listener, very long strings and odd Unicode,
written as a real ingestion folder (a registration file and a penalty file, UTF-8
CSV) that the tests ingest through the real pipeline.

Shared by tests/api (the credit report, the pages) and tests/alerts (every kind of
notification through every channel)."""

from __future__ import annotations

import shutil
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from stdnum.cn import uscc as stdnum_uscc

MINI = Path(__file__).resolve().parent / "fixtures" / "mini"
# The mini county's micro-grid, where the hostile firms are registered.
MICRO = "CX-S01-G01-M01"


def names(port: int) -> dict[str, str]:
    """Hostile firm names by what they try. `port` is a listener that must never be
    contacted (an image tag pointing at it must not make the server fetch it)."""
    return {
        "markup": '"><img src=x onerror=alert(2)>长兴恶意标记有限公司',
        "image": f'<img src="http://127.0.0.1:9/x"/>探针<img src="http://127.0.0.1:{port}/y"/>有限公司',
        "quotes": "O'Brien \"引号\" & <b>粗体</b> &amp; &#x41; &bogus; ]]> <![CDATA[x]]> 公司",
        "rtl": "\u202e\u200f右到左标记\u200e\u202c有限公司",
        "emoji": "😀笑脸👩\u200d👩\u200d👧家庭☃雪人有限公司",
        "combining": "Zalgo z\u0337\u0322a\u0336l\u0338g\u0335o e\u0301\u0301 组合字符有限公司",
        "control": "控制\x01\x02\x1b[31m红\x7f\x0b\x0c字符有限公司",
        "braces": "{subject_name} {0} %s %(x)s $x^$ {{ }} \\n 占位符有限公司",
        "long": "长" * 290 + "有限公司",  # the schema holds names of up to 300 characters
    }


LONG_TEXT = ('违法事实<para>未闭合 <font name="x" size="999">字体</font> <a href="http://127.0.0.1:9/">链接</a> '
             + "很长的违法事实。" * 2500)  # 20,000 characters: more than a page of a table cell


def uscc(n: int) -> str:
    body = f"91330522MH{n:07d}"
    return body + stdnum_uscc.calc_check_digit(body)


@dataclass
class Listener:
    """A loopback TCP listener that records whether anyone connected."""

    sock: socket.socket = field(default_factory=socket.socket)

    def __post_init__(self) -> None:
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.setblocking(False)

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    def contacted(self) -> bool:
        try:
            conn, _ = self.sock.accept()
        except BlockingIOError:
            return False
        conn.close()
        return True

    def close(self) -> None:
        self.sock.close()


_watching = threading.Event()
_connects: list[object] = []


def _audit(event: str, args: tuple[object, ...]) -> None:
    if event == "socket.connect" and _watching.is_set():
        _connects.append(args[1])


sys.addaudithook(_audit)  # audit hooks cannot be removed: this one records only while watching


@contextmanager
def no_network() -> Iterator[list[object]]:
    """Records every socket connection Python code attempts inside the block (the
    interpreter's `socket.connect` audit event: urllib, http.client, reportlab's image
    fetching all go through it). The caller asserts the list is empty."""
    _connects.clear()
    _watching.set()
    try:
        yield _connects
    finally:
        _watching.clear()


def write_folder(dst: Path, hostile: dict[str, str]) -> dict[str, str]:
    """An ingestion folder: the mini county's regions and data requests, a UTF-8
    registration file with one firm per hostile name, and a penalty file with two
    records per firm (a hostile decision number; a 20,000-character hostile text).
    Returns the firms' credit codes by key."""
    import csv

    (dst / "specs").mkdir(parents=True)
    (dst / "data").mkdir()
    for f in ("regions.yaml", "data_requests.yaml"):
        shutil.copyfile(MINI / f, dst / f)
    (dst / "manifest.yaml").write_text(yaml.safe_dump({
        "county": "长兴测试县", "regions": "regions.yaml", "data_requests": "data_requests.yaml",
        "specs": ["specs/*.yaml"], "data_dir": "data"}, allow_unicode=True), encoding="utf-8")
    (dst / "specs" / "registration.yaml").write_text(yaml.safe_dump({
        "name": "hostile_registration", "version": "1", "title": "登记（敌意文本）", "department": "market",
        "kind": "registration", "file": "registration.csv", "format": "csv", "encoding": "utf-8",
        "columns": {"uscc": "统一社会信用代码", "name": "主体名称", "kind": "主体类型", "region": "所属网格",
                    "industry": "行业", "address": "地址"},
        "steps": [{"field": "kind", "op": "map", "map": {"企业": "enterprise"}}], "order": 10},
        allow_unicode=True), encoding="utf-8")
    (dst / "specs" / "penalties.yaml").write_text(yaml.safe_dump({
        "name": "hostile_penalties", "version": "1", "department": "market", "kind": "records",
        "file": "penalties.csv", "format": "csv", "encoding": "utf-8",
        "columns": {"uscc": "统一社会信用代码", "name": "当事人", "item": "处罚种类", "document_no": "决定书文号",
                    "occurred_on": "违法日期", "decided_on": "处罚日期", "text": "违法事实"},
        "steps": [{"field": "item", "op": "map", "map": {"罚款": "market.penalty"}}],
        "items": ["market.penalty"], "natural_key": ["uscc", "occurred_on"], "unknown_subject": "quarantine"},
        allow_unicode=True), encoding="utf-8")
    codes = {k: uscc(n) for n, k in enumerate(hostile, start=1)}
    with open(dst / "data" / "registration.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["统一社会信用代码", "主体名称", "主体类型", "所属网格", "行业", "地址"])
        for k, name in hostile.items():
            w.writerow([codes[k], name, "企业", MICRO, '<i>"行业"</i>', f"地址 {name[:100]}"])
    with open(dst / "data" / "penalties.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["统一社会信用代码", "当事人", "处罚种类", "决定书文号", "违法日期", "处罚日期", "违法事实"])
        for k, name in hostile.items():
            w.writerow([codes[k], name, "罚款", f"<b>长市监罚</b>〔2026〕\"{k}\"&号", "2026-09-01", "2026-09-10",
                        name])
            w.writerow([codes[k], name, "罚款", "", "2026-08-01", "2026-08-10", name + LONG_TEXT])
    return codes
