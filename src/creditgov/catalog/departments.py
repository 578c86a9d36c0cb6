"""The departments of the data catalogue: the one check every other domain uses when
a policy file or a request names a department.

A department is a row of `catalog_departments` (loaded from catalog.yaml, with a name
in Chinese and in English); anything else a list rule, a measure, a supervision
policy, a commitment template, a workflow rule, a manual entry or a complaint names
is refused, so every page, notice and export can say the department in words.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from creditgov.catalog.models import Department
from creditgov.core.errors import ConfigError, InvalidInput


def is_department(session: Session, code: object) -> bool:
    return isinstance(code, str) and session.get(Department, code) is not None


def unknown(code: object) -> str:
    """The refusal's words, the same wherever a department is named."""
    return (f"unknown department {code!r}: departments are those of the data catalogue "
            "(catalog.yaml `departments`, each with code, name_zh and name_en)")


def require(session: Session, code: object, *, where: str | None = None) -> None:
    """Refuse a department the catalogue does not have: a `ConfigError` prefixed with
    `where` (a policy file's place: file, entry, field) while loading configuration,
    an `InvalidInput` for a request."""
    if is_department(session, code):
        return
    if where is None:
        raise InvalidInput(unknown(code), code="catalog.department.unknown", params={"department": code})
    raise ConfigError(f"{where}: {unknown(code)}")
