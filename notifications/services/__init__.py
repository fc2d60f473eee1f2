"""Writes of notifications: the outbox, its relay, digests, reminders,
incidents, and the deadline sweeps as the beat runs them.

One module per concern (docs/ARCHITECTURE.md has the map); this package
re-exports every name, so `from notifications import services` keeps working.

- `notification_enqueue` writes outbox rows inside the caller's transaction
  and asks for delivery after commit (`transaction.on_commit`). Publishing
  never raises into the caller: with the broker down the rows wait, and the
  relay sweep (beat) sends them later.
- Delivery is at least once: the relay locks a pending row (`skip_locked`),
  sends, marks it sent, all in one transaction; a row that is no longer
  pending is left alone, so a repeated message changes nothing. Every mail
  carries a Message-ID derived from the row, so even a mail re-sent after a
  crash between send and commit is one mail to the recipient's client.
- Reminders are set-based inserts keyed by their occasion; the deadline
  sweeps live with the cases (`cases.services.sweeps`) and move one case per
  transaction through `case_transition`.
"""

from cases.services.sweeps import (
    _CLAIM_SQL,
    _SOURCES,
    _SPREAD,
    SWEEPS,
    SweepResult,
    _claim,
    _due,
    sweep_candidates,
    sweep_shard_of,
)
from notifications.models import NotificationKind
from notifications.services.case_changes import (
    _EXTENSION_DECISIONS,
    _team_supervisors,
    notifications_for_case_change,
)
from notifications.services.delivery import (
    MAIL_TEMPLATES,
    _link,
    _mail,
    _message_id,
    _modes,
    digests_send,
    notification_link,
    notifications_deliver,
    notifications_relay,
)
from notifications.services.inbox import (
    notification_mark_read,
    notifications_mark_all_read,
    preference_set,
)
from notifications.services.incidents import (
    heartbeat_record,
    incident_record,
    incident_retry,
)
from notifications.services.outbox import (
    _NEW_FIELDS,
    _NEW_SQL,
    BROKER_BACKOFF_SECONDS,
    _broker_failed_at,
    _deferred,
    _gemeinde_deciders,
    _notification_new,
    _publish,
    _publish_after_commit,
    notification_enqueue,
    notification_handover_submitted,
    notification_handovers_imported,
    notifications_bulk_enqueue,
    publishing_deferred,
)
from notifications.services.reminders import (
    _local_today,
    _reminder_rows,
    reminders_run,
)
from notifications.services.sweeps import (
    deadline_sweep,
)

K = NotificationKind
__all__ = [
    "BROKER_BACKOFF_SECONDS",
    "MAIL_TEMPLATES",
    "SWEEPS",
    "_CLAIM_SQL",
    "_EXTENSION_DECISIONS",
    "_NEW_FIELDS",
    "_NEW_SQL",
    "_SOURCES",
    "_SPREAD",
    "K",
    "SweepResult",
    "_broker_failed_at",
    "_claim",
    "_deferred",
    "_due",
    "_gemeinde_deciders",
    "_link",
    "_local_today",
    "_mail",
    "_message_id",
    "_modes",
    "_notification_new",
    "_publish",
    "_publish_after_commit",
    "_reminder_rows",
    "_team_supervisors",
    "deadline_sweep",
    "digests_send",
    "heartbeat_record",
    "incident_record",
    "incident_retry",
    "notification_enqueue",
    "notification_handover_submitted",
    "notification_handovers_imported",
    "notification_link",
    "notification_mark_read",
    "notifications_bulk_enqueue",
    "notifications_deliver",
    "notifications_for_case_change",
    "notifications_mark_all_read",
    "notifications_relay",
    "preference_set",
    "publishing_deferred",
    "reminders_run",
    "sweep_candidates",
    "sweep_shard_of",
]
