"""Which reverse proxies may tell the server who the client is.

Why a setting, empty by default: a proxy in front of the server passes the client's
address in `X-Forwarded-For` (and the scheme in `X-Forwarded-Proto`), but anyone can
send those headers. uvicorn believes them from 127.0.0.1 unless told otherwise, so any
program on the server's own machine could claim a fresh address on every request and
never meet the public rate limit (or the sign-in limits, which key on the address).
The server therefore believes them only from the proxies a deployment names in
`CREDITGOV_TRUSTED_PROXIES` (or `creditgov serve --trusted-proxies`): addresses or
networks, comma-separated, e.g. `127.0.0.1` for an nginx on the same machine or
`10.0.8.0/24` for the county's load balancers. With none, the client address is the
connection's own, and the headers are ignored. `request.client` is then the real
client either way, which is what the rate limits read.
"""

from __future__ import annotations

import ipaddress
import os
from typing import Any

from creditgov.core.errors import ConfigError

ENV = "CREDITGOV_TRUSTED_PROXIES"


def parse(text: str | None, *, what: str = ENV) -> list[str]:
    """The trusted proxies as normalised addresses and networks; a wrong entry is a
    ConfigError naming it (uvicorn would silently treat it as a name that never matches)."""
    out: list[str] = []
    for raw in (text or "").replace(";", ",").split(","):
        entry = raw.strip()
        if not entry:
            continue
        if entry == "*":
            raise ConfigError(f"{what}: '*' would believe X-Forwarded-For from anyone; name the proxies' "
                              "addresses or networks")
        try:
            out.append(str(ipaddress.ip_network(entry, strict=False)) if "/" in entry
                       else str(ipaddress.ip_address(entry)))
        except ValueError:
            raise ConfigError(f"{what}: {entry!r} is not an IP address or network (e.g. 127.0.0.1, "
                              "10.0.8.0/24)") from None
    return out


def from_env() -> list[str]:
    return parse(os.environ.get(ENV))


def server_options(trusted: list[str]) -> dict[str, Any]:
    """uvicorn's options for these proxies: its proxy-header handling only when some
    are trusted, and then only from them (never its default of 127.0.0.1)."""
    return {"proxy_headers": bool(trusted), "forwarded_allow_ips": list(trusted)}
