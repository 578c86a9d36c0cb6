"""The house's small source checks, run by `make lint`:

- no source file over 600 lines (Alembic migrations excepted: a migration is a record
  of the schema as it was and is never split);
- every `type: ignore` names its error code and says why on the same line, so that an
  ignore is a decision a reader can check rather than a silenced warning.

Usage: python scripts/check_sources.py [ROOT ...]   (default: src/creditgov)
Exits 1 and names each offence when any is found.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

MAX_LINES = 600
EXEMPT = ("migrations/versions/",)
IGNORE = re.compile(r"#\s*type:\s*ignore(?P<codes>\[[^\]]*\])?(?P<rest>.*)$")


def offences(root: Path) -> list[str]:
    out: list[str] = []
    for path in sorted(root.rglob("*.py")):
        rel = path.as_posix()
        if any(part in rel for part in EXEMPT):
            continue
        lines = path.read_text("utf-8").splitlines()
        if len(lines) > MAX_LINES:
            out.append(f"{path}: {len(lines)} lines (at most {MAX_LINES}): split it along its seams")
        for no, line in enumerate(lines, 1):
            m = IGNORE.search(line)
            if m is None:
                continue
            reason = m.group("rest").strip().lstrip("#—-:; ").strip()
            if not m.group("codes"):
                out.append(f"{path}:{no}: `type: ignore` without an error code")
            elif len(reason) < 3:
                out.append(f"{path}:{no}: `type: ignore{m.group('codes')}` without a reason on the line")
    return out


def main(argv: list[str]) -> int:
    roots = [Path(a) for a in argv] or [Path("src/creditgov")]
    found = [o for r in roots for o in offences(r)]
    for o in found:
        print(o)
    if found:
        print(f"{len(found)} source check(s) failed")
        return 1
    print(f"source checks passed ({', '.join(str(r) for r in roots)})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
