"""Objection (异议) and credit repair (信用修复): the procedures through which a subject
contests a record or recovers from one, counted on China's working-day calendar.

The procedures are the one place that changes workflow state: `objection.py`,
`outcomes.py`, `repair.py` and `conditions.py` (with the shared lookups and the race-safe
claim in `common.py`, the rules in `rules.py`, materials, notifications, the exchange
outbox and the overdue alerts in their own modules). A record's status moves only
through `records.service.change_status` (called by these procedures and in
`flows.py`), so no other road marks, restores, deletes or repairs a record. Steps that
reach other domains' state beyond the record (lists, evaluation) are composed in
`flows.py`. The edges share their read logic through `access.py`."""
