"""Labels of the bureau export's codes for the one label catalogue (`core.labels`): the
bureaus by their names in the bureaus file in force, a consent's organisation
`bureau:<code>` (the subject's consents list names the bureau), run statuses and the
footing a subject's records went on. Registered by `bootstrap.wire()`."""

from __future__ import annotations

from creditgov.bureaus import policy
from creditgov.bureaus.access import BASIS, STATUS
from creditgov.core.labels import Names


def _bureaus() -> Names:
    return policy.names()


def _organisations() -> Names:
    return {policy.ORG_PREFIX + code: pair for code, pair in policy.names().items()}


LABELS = {"bureau": _bureaus, "organisation": _organisations, "bureau_run_status": STATUS,
          "bureau_basis": BASIS}
