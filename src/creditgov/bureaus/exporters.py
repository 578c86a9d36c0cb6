"""How a run reaches a bureau: a small abstract class and plugins found by entry point.

Why plugins: each bureau takes data its own way (a file in a folder it collects, its
reporting system's upload, an interface under its licence), so a bureau in the bureaus
file names its exporter and that exporter's settings, and a new one is a package that
registers a class in the entry point group `creditgov.bureau_exporters`. The shipped
`file` exporter (`file_exporter.py`) is registered there too, and known by name even in
a checkout whose installed metadata predates it.

Contract: `render` turns the run's rows (dicts with the fields of `FIELDS`, in order,
values str or None) into the file's bytes — called once, when the run is made; the
bytes are kept, so `deliver` of the same run always hands over the same bytes. `deliver`
puts the run where the bureau takes it, whole or not at all, and answers where; it
raises `DeliveryError` when that failed (the run stays pending and is delivered again).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from creditgov.core.errors import ConfigError, CreditGovError

GROUP = "creditgov.bureau_exporters"

# One row per credit record, in this order (docs/bureaus.md gives each field's meaning).
FIELDS: tuple[str, ...] = (
    "line", "subject_kind", "subject_name", "uscc", "resident_id", "item", "item_name", "polarity", "severity",
    "department", "department_name", "occurred_on", "decided_on", "value", "unit", "grade", "text", "document_no",
    "record_key", "record_version", "basis", "term", "consent_id", "consent_granted_on")


class DeliveryError(CreditGovError):
    """The run did not reach the bureau (it stays pending; the next export or a rerun
    delivers it)."""


@dataclass(frozen=True)
class RunFile:
    bureau: str
    seq: int
    file_name: str
    content: bytes
    manifest: dict[str, Any]


class ExporterSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Exporter(ABC):
    """One bureau's exporter, with its settings from the bureaus file. `base` is the
    folder relative paths in the settings are taken from (bureaus.policy.export_dir)."""

    Settings: ClassVar[type[ExporterSettings]] = ExporterSettings

    def __init__(self, bureau: str, settings: dict[str, Any], *, base: Path) -> None:
        self.bureau = bureau
        self.base = base
        try:
            self.settings = self.Settings.model_validate(settings)
        except ValidationError as exc:
            problems = "; ".join(f"settings.{'.'.join(str(p) for p in e['loc']) or '(settings)'}: {e['msg']}"
                                 for e in exc.errors())
            raise ConfigError(f"bureau {bureau!r} ({type(self).__name__}): {problems}") from None

    def format_name(self) -> str:
        """What the manifest names as the file's format."""
        return "creditgov.bureau/1"

    @abstractmethod
    def file_name(self, seq: int) -> str:
        """The run's file name (the bureau's code and the run number in it)."""

    @abstractmethod
    def render(self, rows: list[dict[str, Any]]) -> bytes:
        """The file's bytes for these rows."""

    @abstractmethod
    def deliver(self, run: RunFile) -> str:
        """Hand the run over, whole or not at all; answer where it went."""


def plugins() -> dict[str, type[Exporter]]:
    """The exporters installed: the shipped `file`, then every entry point of the group
    (read each time, so a plugin installed while a server runs is found)."""
    from creditgov.bureaus.file_exporter import FileExporter

    found: dict[str, type[Exporter]] = {"file": FileExporter}
    for ep in entry_points(group=GROUP):
        cls = ep.load()
        if not (isinstance(cls, type) and issubclass(cls, Exporter)):
            raise ConfigError(f"entry point {ep.name} = {ep.value} is not a bureau Exporter class")
        found[ep.name] = cls
    return found


def exporter_for(name: str, bureau: str, settings: dict[str, Any], *, base: Path) -> Exporter:
    found = plugins()
    if name not in found:
        raise ConfigError(f"bureau {bureau!r}: no exporter {name!r} is installed (installed: "
                          f"{', '.join(sorted(found))}; plugins register an entry point in the {GROUP!r} group)")
    return found[name](bureau, settings, base=base)
