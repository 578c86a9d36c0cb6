"""Labels of the exchange's codes for the one label catalogue (`core.labels`): a
package's direction, status and the kinds of data it carries (the words the exchange
page and its export use, `access.py`), and how a peer is reached. Registered by
`bootstrap.wire()`."""

from __future__ import annotations

from creditgov.core.labels import Names
from creditgov.exchange.access import DIRECTION, KIND, STATUS

# How a channel's peer is reached (`transport.BUILT_IN`).
TRANSPORT: Names = {"http": ("推送至对方 (HTTP)", "pushed to the peer (HTTP)"),
                    "http-pull": ("对方拉取 (HTTP)", "fetched by the peer (HTTP)"),
                    "folder": ("共享文件夹", "drop folder")}

# Which way a channel of the channels file runs (`schemas.Channel.direction`).
CHANNEL_DIRECTION: Names = {"up": ("上报上级平台", "up to the upper platform"),
                            "down": ("下发下级平台", "down to a lower platform"), "peer": ("平级互通", "between peers")}

# What a package carries: the page's words, and a region's credit-code revocation list
# (the page's table does not name it yet).
KINDS: Names = {**KIND, "code.revocations": ("信用码撤销清单", "credit code revocation list")}

LABELS = {"exchange_direction": DIRECTION, "exchange_status": STATUS, "exchange_kind": KINDS,
          "exchange_transport": TRANSPORT, "exchange_channel_direction": CHANNEL_DIRECTION}
