"""The exchange (数据回流 / 上下级平台交换): signed, sequenced packages to and from the
upper platform and lower or peer platforms, over plugin transports (HTTP push between
two installations, a drop folder). The change queue `exchange_outbox` that the repair
and objection procedures fill is this domain's (`queue.py`); `collect.py` turns queued
changes and new facts into packages, `transport.py` carries them, `apply.py` applies
received ones exactly once through the owning domains' services. docs/exchange.md."""
