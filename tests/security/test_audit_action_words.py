"""Every action the audit chain records has words in Chinese and English (label kind
`audit_action`, security/audit_actions.py), so the audit log names each entry's action:
the source is read for every `append(action=…)` — a literal, either branch of a
conditional, an f-string or a concatenation matched against the catalogue, an export's
`<table>.export` by the tables the commands export — and the catalogue names no action
nothing writes (a misspelt code would never be shown)."""

from __future__ import annotations

import ast
import re
from itertools import product
from pathlib import Path

from creditgov import bootstrap
from creditgov.core import labels

SRC = Path(__file__).resolve().parents[2] / "src" / "creditgov"
PART = r"[a-z0-9_-]+"   # what a variable in an action's code stands for


def _choices(part: ast.expr) -> list[str | None]:
    """What one part of an f-string can be: its text, both texts of a conditional
    (`f"hall.{'end' if … else 'timeout'}"`), or None for a variable."""
    if isinstance(part, ast.Constant):
        return [str(part.value)]
    v = part.value if isinstance(part, ast.FormattedValue) else part
    if isinstance(v, ast.IfExp) and isinstance(v.body, ast.Constant) and isinstance(v.orelse, ast.Constant):
        return [str(v.body.value), str(v.orelse.value)]
    return [None]


def _written() -> tuple[dict[str, str], dict[str, str]]:
    """(literal action -> where, pattern of an action built from variables -> where)."""
    literal: dict[str, str] = {}
    pattern: dict[str, str] = {}
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            where = f"{path.relative_to(SRC)}:{node.lineno}"
            f = ast.unparse(node.func)
            values = [k.value for k in node.keywords if k.arg == "action" and f.endswith("append")]
            if f == "_audit" and len(node.args) >= 3:       # the service hall's helper: (session, cs, action)
                values.append(node.args[2])
            if f == "write_out":                            # cli.common.write_out: "<table>.export"
                values += [ast.Constant(k.value.value + ".export") for k in node.keywords
                           if k.arg == "table" and isinstance(k.value, ast.Constant)]
            for v in values:
                for leaf in (v.body, v.orelse) if isinstance(v, ast.IfExp) else (v,):
                    if isinstance(leaf, ast.Constant) and isinstance(leaf.value, str):
                        literal[leaf.value] = where
                    elif isinstance(leaf, ast.JoinedStr):
                        for parts in product(*(_choices(p) for p in leaf.values)):
                            if None in parts:
                                pattern["".join(PART if p is None else re.escape(p) for p in parts)] = where
                            else:
                                literal["".join(p for p in parts if p is not None)] = where
                    elif isinstance(leaf, ast.BinOp) and isinstance(leaf.left, ast.Constant):
                        pattern[re.escape(leaf.left.value) + PART] = where
                    else:  # a variable: the helper that passes it is read above (the hall's `_audit`)
                        assert where.startswith("hall/service.py"), f"{where}: an action the test cannot read"
    return literal, pattern


def test_every_audit_action_has_words_and_every_word_an_action() -> None:
    bootstrap.wire()
    words = labels.names("audit_action")
    literal, pattern = _written()
    assert len(literal) >= 150 and "report.download" in literal and "{table}.export" not in literal
    missing = sorted(f"{code} ({where})" for code, where in literal.items() if code not in words)
    assert not missing, f"audit actions without words in security/audit_actions.py: {missing}"
    for rx, where in pattern.items():
        assert any(re.fullmatch(rx, code) for code in words), f"{where}: no words for any action {rx!r}"
    unused = sorted(code for code in words if code not in literal
                    and not any(re.fullmatch(rx, code) for rx in pattern))
    assert not unused, f"words for actions nothing writes: {unused}"
    for code, (zh, en) in words.items():
        assert zh.strip() and en.strip() and zh != en and code not in (zh, en), code
