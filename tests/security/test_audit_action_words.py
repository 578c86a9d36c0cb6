"""Every action the audit chain records has words in Chinese and English (label kind
`audit_action`): each domain's `labels.py` names the actions its services write
(`AUDIT_ACTIONS`) and the composition root gathers them into the one catalogue the audit
log reads (`bootstrap.audit_actions`). The source is read for every `append(action=…)` —
a literal, either branch of a conditional, an f-string or a concatenation matched against
the catalogue, an export's `<table>.export` by the tables the commands export — and the
catalogue names no action nothing writes (a misspelt code would never be shown), no code
is two domains', and an action a domain's folder writes has its words in that domain's
`labels.py` or a lower layer's (security knows only its own)."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
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


def _written() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(literal action -> where it is written, pattern of an action built from variables
    -> where), each `where` as `<folder>/<file>.py:<line>`."""
    literal: dict[str, set[str]] = defaultdict(set)
    pattern: dict[str, set[str]] = defaultdict(set)
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
                        literal[leaf.value].add(where)
                    elif isinstance(leaf, ast.JoinedStr):
                        for parts in product(*(_choices(p) for p in leaf.values)):
                            if None in parts:
                                pattern["".join(PART if p is None else re.escape(p) for p in parts)].add(where)
                            else:
                                literal["".join(p for p in parts if p is not None)].add(where)
                    elif isinstance(leaf, ast.BinOp) and isinstance(leaf.left, ast.Constant):
                        pattern[re.escape(leaf.left.value) + PART].add(where)
                    else:  # a variable: the helper that passes it is read above (the hall's `_audit`)
                        assert where.startswith("hall/service.py"), f"{where}: an action the test cannot read"
    return literal, pattern


def _gathered() -> dict[str, tuple[str, str]]:
    """The one catalogue: every domain's `AUDIT_ACTIONS`, as the audit log reads it."""
    return {code: words for actions in bootstrap.audit_actions().values() for code, words in actions.items()}


def test_the_audit_log_reads_the_catalogue_gathered_from_every_domain() -> None:
    bootstrap.wire()
    by_domain = bootstrap.audit_actions()
    assert {"security", "alerts", "lists", "workflows", "finance"} <= set(by_domain)
    assert labels.names("audit_action") == _gathered()
    assert labels.label("audit_action", "alert.raise", "en") == "Alert raised"
    assert labels.label("audit_action", "auth.login", "zh") == "登录"


def test_no_action_is_two_domains() -> None:
    owners: dict[str, list[str]] = defaultdict(list)
    for domain, actions in bootstrap.audit_actions().items():
        for code in actions:
            owners[code].append(domain)
    twice = sorted(f"{code} ({', '.join(ds)})" for code, ds in owners.items() if len(ds) > 1)
    assert not twice, f"audit actions defined by two domains: {twice}"


def test_every_audit_action_has_words_and_every_word_an_action() -> None:
    words = _gathered()
    literal, pattern = _written()
    assert len(literal) >= 150 and "report.download" in literal and "{table}.export" not in literal
    missing = sorted(f"{code} ({', '.join(sorted(where))})" for code, where in literal.items() if code not in words)
    assert not missing, f"audit actions without words in the writing domain's labels.py AUDIT_ACTIONS: {missing}"
    for rx, where in pattern.items():
        assert any(re.fullmatch(rx, code) for code in words), f"{sorted(where)}: no words for any action {rx!r}"
    unused = sorted(code for code in words if code not in literal
                    and not any(re.fullmatch(rx, code) for rx in pattern))
    assert not unused, f"words for actions nothing writes: {unused}"
    for code, (zh, en) in words.items():
        assert zh.strip() and en.strip() and zh != en and code not in (zh, en), code


def test_a_domain_names_the_actions_it_writes() -> None:
    """An action written in a domain's folder has its words in that domain's labels.py or
    in one on a lower layer, which it may import (scoring's explanation writes subjects'
    `subject.read`); the edges, `cli/` and `web/`, write other domains' exports and own
    none. Security, the lowest, names only its own."""
    by_domain = bootstrap.audit_actions()
    layer = {d.name: d.layer for d in bootstrap.DOMAINS}

    def known_to(domain: str) -> set[str]:
        return {code for d, actions in by_domain.items() if d == domain or layer[d] < layer[domain]
                for code in actions}

    literal, pattern = _written()
    astray = sorted(f"{code} ({where})" for code, wheres in literal.items() for where in wheres
                    if where.split("/")[0] in by_domain and code not in known_to(where.split("/")[0]))
    assert not astray, f"actions whose words are not in the writing domain's labels.py: {astray}"
    for rx, wheres in pattern.items():
        for where in wheres:
            folder = where.split("/")[0]
            assert folder not in by_domain or any(re.fullmatch(rx, code) for code in known_to(folder)), \
                f"{where}: no words for {rx!r} in its domain's labels.py"
    assert all(code.split(".")[0] in {"auth", "password", "totp", "user", "token", "consent", "audit", "store"}
               for code in by_domain["security"]), sorted(by_domain["security"])
