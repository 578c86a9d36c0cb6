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


# The footing an item goes to a bureau on (the catalogue's `bureau_sharing` terms).
TERMS: Names = {"consent": ("经主体授权", "with the subject's consent"),
                "public-penalty": ("依法公开的行政处罚", "administrative penalty public by law"),
                "public-court": ("依法公开的司法信息", "court information public by law"),
                "public-notice": ("依法公告的信息", "information announced by law")}

LABELS = {"bureau": _bureaus, "organisation": _organisations, "bureau_run_status": STATUS,
          "bureau_basis": BASIS, "bureau_term": TERMS}

# What this domain writes to the audit chain (`append(action=…)`), in words: the audit log
# names an entry's action by these (label kind `audit_action`, gathered from every
# domain by `bootstrap.audit_actions`); an action written from a variable lists every
# value it takes. `tests/security/test_audit_action_words.py` holds them to the source.
AUDIT_ACTIONS: Names = {
    "bureau.export": ("生成征信报送批次", "Bureau run made"),
    "bureau.write": ("写出征信报送文件", "Bureau run written"),
    "bureau.ack": ("征信机构确认接收", "Bureau run acknowledged"),
}
