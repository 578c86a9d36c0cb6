"""Configuration files as validated data.

Every YAML file the product reads (catalogue, source specs, models, rules) goes through
`load_yaml_model`, so an error always names the file, the line and the field. The
policy files a domain ships (law and local policy as data with citations: lists,
measures, rules, schedules) are each one `PolicyFile`: the shipped text, parsed once,
or a deployment's own file in its place.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Generic, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from creditgov.core.errors import ConfigError

M = TypeVar("M", bound=BaseModel)
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """Follow a Pydantic error location through the YAML node tree to a line number."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            nxt = None
            for k, v in node.value:
                if k.value == str(part):
                    nxt = v
                    line = k.start_mark.line + 1
                    break
            if nxt is None:
                break
            node = nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def parse_yaml_model(model: type[M], text: str, source: str) -> M:
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader, C-accelerated when available
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        raise ConfigError(f"{source}{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{source}:1: expected a mapping at the top level")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        node = yaml.compose(text, Loader=_Loader)  # only on error: it is slow
        raise ConfigError(error_lines(source, node, [(tuple(e["loc"]), e["msg"]) for e in exc.errors()])) from None


def error_lines(source: str, node: yaml.Node | None, errors: list[tuple[tuple[Any, ...], str]]) -> str:
    """Every error, one `file:line: field: problem` line each (in the order found, a
    repeated line once): the first is rarely the only one, and the cause an author must
    fix (an unknown key, say) is often not the first."""
    lines: list[str] = []
    for loc, msg in errors:
        field = ".".join(str(p) for p in loc) or "(top)"
        line = f"{source}:{_line_of(node, loc) or 1}: {field}: {msg}"
        if line not in lines:
            lines.append(line)
    return "\n".join(lines)


def load_yaml_model(model: type[M], path: Path) -> M:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    return parse_yaml_model(model, text, str(path))


@dataclass(frozen=True)
class PolicyFile(Generic[M]):
    """A policy file shipped inside a domain's package (`package`, `name` relative to
    it, e.g. `data/lists.yaml`) and validated as `model`."""

    model: type[M]
    package: str
    name: str

    @property
    def source(self) -> str:
        """How errors name the shipped file."""
        return f"{self.name.rsplit('/', 1)[-1]} (shipped)"

    def text(self) -> str:
        return resources.files(self.package).joinpath(self.name).read_text("utf-8")

    def parse(self, text: str, source: str | None = None) -> M:
        return parse_yaml_model(self.model, text, source or self.source)

    def shipped(self) -> M:
        """The shipped file, parsed once per process. It is read again only when its
        size or modification time changes (an edited file in a development checkout is
        picked up), so a service that asks for its rules on every request pays one
        `stat`, not a read and a parse. A file not on disk (a zipped package) is read
        each time, and parsed once per text."""
        where = _shipped_path(self.package, self.name)
        if where is None:
            return self.parsed(self.text(), self.source)
        try:
            st = where.stat()
        except OSError:
            return self.parsed(self.text(), self.source)
        stamp = (st.st_mtime_ns, st.st_size)
        seen = _SHIPPED.get((self.package, self.name))
        if seen is not None and seen[0] == stamp:
            out: M = seen[1]
            return out
        doc = self.parsed(where.read_text("utf-8"), self.source)
        _SHIPPED[(self.package, self.name)] = (stamp, doc)
        return doc

    def parsed(self, text: str, source: str) -> M:
        """`parse`, once per text: for a copy loaded into the store and read on every
        request (the models are frozen, so the one parsed copy is shared safely)."""
        out: M = _parsed(self.model, text, source)
        return out

    def load(self, path: Path | None = None) -> M:
        """A deployment's own file in place of the shipped one, or the shipped one."""
        return load_yaml_model(self.model, path) if path is not None else self.shipped()


# (package, name) -> ((mtime_ns, size), parsed model) of each shipped file read so far.
_SHIPPED: dict[tuple[str, str], tuple[tuple[int, int], Any]] = {}


@lru_cache(maxsize=128)
def _shipped_path(package: str, name: str) -> Path | None:
    """The shipped file on disk, or None when the package is not a folder of files."""
    where = resources.files(package).joinpath(name)
    return where if isinstance(where, Path) else None


@lru_cache(maxsize=32)
def _parsed(model: type[BaseModel], text: str, source: str) -> Any:
    return parse_yaml_model(model, text, source)
