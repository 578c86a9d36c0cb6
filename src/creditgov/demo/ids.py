"""The identifier arithmetic the generator needs: organisation-code check characters and
base-31 bodies, and the alphabets the draws and writers use.

Kept apart from the draws so the codes can be checked against the platform's own identifier
module; the USCC check character is that module's (`subjects.identifiers.uscc_check_char`).
"""

from __future__ import annotations

_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_RIC_ALPHABET = "0123456789X"


def _org_code(body8: str) -> str:
    """GB 11714 organisation code: eight characters and their check character."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    total = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(body8, weights, strict=True))
    c = 11 - total % 11
    return body8 + ("X" if c == 10 else "0" if c == 11 else str(c))


def _base31(n: int, width: int) -> str:
    out = []
    for _ in range(width):
        n, r = divmod(n, 31)
        out.append(_USCC_ALPHABET[r])
    return "".join(reversed(out))
