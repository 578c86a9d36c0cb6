"""Writes import-linter's contracts from the composition root (`creditgov.bootstrap`),
so the layers the build enforces are the ones the root declares and a new domain is
held by them as soon as it is listed there. `make lint` runs:

    python scripts/import_contracts.py > .venv/importlinter.ini
    lint-imports --config .venv/importlinter.ini

Two contracts:
- layers: from the edges down to `core`, each domain on its declared layer (domains on
  one layer are independent siblings). A domain's own edge modules (views, cli, pages,
  access) may reach any layer, and any module may import any domain's `models.py`: the
  tables are one shared schema (only the owning domain's service writes them).
- independence: views, pages and command modules never import one another.
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict

from creditgov import bootstrap

# Modules of a domain that are its outside, not its rules: they may import any layer.
EDGE_MODULES = ("views", "cli", "pages", "access")
EXTRA_EDGES = ("creditgov.migrations",)  # Alembic's environment reads the whole schema
EXTRA_COMMAND_MODULES = ("creditgov.security.users_cli", "creditgov.workflows.retention_cli")


def contracts() -> str:
    by_layer: dict[int, list[str]] = defaultdict(list)
    for d in bootstrap.DOMAINS:
        by_layer[d.layer].append(bootstrap.package(d))
    by_layer[bootstrap.EDGE].extend(EXTRA_EDGES)
    lines = ["[importlinter]", "root_package = creditgov", "",
             "[importlinter:contract:layers]", "name = Service layers: a lower layer never imports a higher one",
             "type = layers", "layers ="]
    for layer in sorted(by_layer, reverse=True):
        # The edges may import one another (the pages use the API's dependencies);
        # domains on one layer may not.
        sep = " : " if layer == bootstrap.EDGE else " | "
        lines.append("    " + sep.join(sorted(by_layer[layer])))
        if layer == bootstrap.EDGE:
            lines.append("    creditgov.bootstrap")
    lines.append("    creditgov.core")
    lines += ["ignore_imports =", "    creditgov.** -> creditgov.*.models"]
    lines += [f"    creditgov.*.{m} -> creditgov.**" for m in EDGE_MODULES]
    lines += [f"    {m} -> creditgov.**" for m in EXTRA_COMMAND_MODULES]
    pages = sorted({m for d in bootstrap.DOMAINS for m in d.pages})
    lines += ["", "[importlinter:contract:edges]", "name = Views, pages and commands never import one another",
              "type = independence", "modules ="]
    lines += [f"    creditgov.*.{m}" for m in ("views", "cli", "pages")]
    # Page modules named `<domain>/pages.py` are in the wildcard already.
    lines += [f"    {m}" for m in (*EXTRA_COMMAND_MODULES, *pages) if not re.fullmatch(r"creditgov\.\w+\.pages", m)]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(contracts())
