"""The expectation table of the credit check (`matrix.yaml`): loading it, and rendering
it as the Markdown tables of docs/measures.md.

`python -m tests.measures.matrix --write` puts the rendered tables between the
`matrix` markers of docs/measures.md; `test_check_matrix.py` fails when they differ."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
TABLE = HERE / "matrix.yaml"
DOCS = HERE.parents[1] / "docs" / "measures.md"
START, END = "<!-- matrix:start (generated from tests/measures/matrix.yaml) -->", "<!-- matrix:end -->"
OFFERED = " (on a signed commitment)"


def load() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(TABLE.read_text("utf-8"))
    return doc


def render(doc: dict[str, Any], scenarios: list[str]) -> str:
    """One table per model and kind: a row per scenario, a column per grade."""
    out: list[str] = []
    for model, by_kind in doc.items():
        for kind, spec in by_kind.items():
            grades = list(spec["grades"])
            out.append(f"#### `{model}` — {kind}\n")
            out.append("| scenario | " + " | ".join(grades) + " |")
            out.append("|---|" + "---|" * len(grades))
            for sc in scenarios:
                if sc in spec["not_checked"]:
                    cells = ["*not checked*"] * len(grades)
                else:
                    cells = [", ".join(c.replace(OFFERED, " *(with commitment)*")
                                       for c in spec["grades"][g].get(sc, [])) or "—" for g in grades]
                out.append(f"| {sc} | " + " | ".join(cells) + " |")
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def scenario_codes() -> list[str]:
    """The shipped scenarios, in file order (the docs' row order)."""
    from creditgov.measures.catalogue import read_scenarios

    return [s.code for s in read_scenarios().scenarios]


def section(text: str) -> str:
    return text.split(START, 1)[1].split(END, 1)[0].strip("\n") + "\n"


def write() -> None:
    text = DOCS.read_text("utf-8")
    head, rest = text.split(START, 1)
    _old, tail = rest.split(END, 1)
    DOCS.write_text(f"{head}{START}\n{render(load(), scenario_codes())}{END}{tail}", "utf-8")


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        write()
    else:
        sys.stdout.write(render(load(), scenario_codes()))
