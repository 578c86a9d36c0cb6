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

# What this domain writes to the audit chain (`append(action=…)`), in words: the audit log
# names an entry's action by these (label kind `audit_action`, gathered from every
# domain by `bootstrap.audit_actions`); an action written from a variable lists every
# value it takes. `tests/security/test_audit_action_words.py` holds them to the source.
AUDIT_ACTIONS: Names = {
    "exchange.identity": ("创建本平台交换身份", "Exchange identity created"),
    "exchange.peer.add": ("添加交换对方", "Exchange peer added"),
    "exchange.peer.set": ("修改交换对方连接方式", "Exchange peer changed"),
    "exchange.run": ("执行数据交换", "Exchange cycle run"),
    "exchange.package": ("生成交换包", "Exchange package made"),
    "exchange.receive": ("接收交换包", "Exchange package received"),
    "exchange.apply": ("应用交换包", "Exchange package applied"),
    "exchange.retry": ("重新发送交换包", "Exchange packages due again"),
    "exchange.facts.protect": ("加密已收数据中的身份证号", "Received ID numbers encrypted"),
    "exchange.export": ("导出数据交换记录", "Exchange packages exported"),
}
