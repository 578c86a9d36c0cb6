"""The bureaus file in force (`data/bureaus.yaml`, or a deployment's own copy named by
`CREDITGOV_BUREAUS`), validated on load — its shape, and each bureau's exporter being
installed with settings it accepts — and where exported files go."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from creditgov.bureaus.exporters import Exporter, exporter_for
from creditgov.bureaus.schemas import Bureau, BureausFile
from creditgov.core.config import PolicyFile
from creditgov.core.errors import ConfigError, InvalidInput

BUREAUS = PolicyFile(BureausFile, "creditgov.bureaus", "data/bureaus.yaml")
ENV = "CREDITGOV_BUREAUS"
DIR_ENV = "CREDITGOV_BUREAU_DIR"
# A consent to a bureau is a security `AccessConsent` naming this organisation: the
# prefix keeps a bureau apart from any bank code.
ORG_PREFIX = "bureau:"


def source() -> str:
    return os.environ.get(ENV) or BUREAUS.source


def policy() -> BureausFile:
    path = os.environ.get(ENV)
    doc = BUREAUS.load(Path(path)) if path else BUREAUS.shipped()
    for code, b in doc.bureaus.items():
        try:
            exporter_for(b.exporter, code, b.settings, base=Path("."))
        except ConfigError as exc:
            raise ConfigError(f"{source()}: bureaus.{code}: {exc}") from None
    return doc


def names() -> dict[str, tuple[str, str]]:
    """The bureaus' names for labels: read without loading their exporters, so a page
    still names a bureau whose plugin is missing (the export itself refuses it)."""
    path = os.environ.get(ENV)
    try:
        doc = BUREAUS.load(Path(path)) if path else BUREAUS.shipped()
    except ConfigError:
        return {}
    return {code: (b.name_zh, b.name_en) for code, b in doc.bureaus.items()}


def bureau(code: str) -> Bureau:
    doc = policy()
    if code not in doc.bureaus:
        raise InvalidInput(f"no bureau {code!r} in the bureaus file; one of {sorted(doc.bureaus)}")
    return doc.bureaus[code]


def organisation(code: str) -> str:
    return ORG_PREFIX + code


def export_dir(url: str) -> Path:
    """Where relative export folders are: `$CREDITGOV_BUREAU_DIR`, else beside a SQLite
    file (`<db>.bureaus/`), else `./creditgov-bureaus/`."""
    env = os.environ.get(DIR_ENV)
    if env:
        return Path(env).resolve()
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        return Path(url.removeprefix("sqlite:///") + ".bureaus").resolve()
    return Path("creditgov-bureaus").resolve()


def exporter(code: str, *, base: Path) -> Exporter:
    b = bureau(code)
    return exporter_for(b.exporter, code, b.settings, base=base)


def describe() -> dict[str, Any]:
    doc = policy()
    return {"version": doc.version, "source": source(), "citation": doc.citation,
            "bureaus": {k: v.model_dump() for k, v in doc.bureaus.items()}}
