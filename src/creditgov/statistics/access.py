"""The form a grant may see: the whole county's for a county-wide grant, else only the
subjects in its scope. Shared by the API, the pages and nothing else (the command line
reports the whole county, as the office's own tool)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from creditgov.security.scopes import Grant, Scope
from creditgov.statistics import service


def scoped_form(session: Session, grant: Grant, code: str | None) -> dict[str, Any]:
    p = service.period(code) if code else service.last_month()
    return service.form(session, p, scope=None if grant.scope is Scope.ALL else grant.subject_clause())
