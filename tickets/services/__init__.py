"""Every write to tickets goes through here (portal pages, API, admin, commands, tasks).

Each service is keyword-only, checks who may act (``PermissionDenied``) and the input
(``ValidationError`` keyed by field) before it writes, then writes atomically under the
ticket's row lock, keeping the stored SLA clock columns up to date. Refused input saves
nothing, attachment files included. ``now`` defaults to the current time; tests pass it.
"""

from tickets.services.conversation import ticket_reply
from tickets.services.escalations import tickets_escalate, tickets_refresh_breaches
from tickets.services.filing import ticket_file, ticket_from_unregistered_sender, ticket_log
from tickets.services.inbound import InboundOutcome, InboundRejected, ticket_ingest_email
from tickets.services.saved_filters import saved_filter_delete, saved_filter_save
from tickets.services.watchers import (
    ticket_watcher_add,
    ticket_watcher_remove,
    watcher_candidates,
    watchers_from_cc,
)
from tickets.services.workflow import (
    ticket_assign,
    ticket_reclassify,
    ticket_set_status,
    ticket_take,
)

__all__ = [
    "saved_filter_delete",
    "saved_filter_save",
    "InboundOutcome",
    "InboundRejected",
    "ticket_assign",
    "ticket_file",
    "ticket_from_unregistered_sender",
    "ticket_ingest_email",
    "ticket_log",
    "ticket_reclassify",
    "ticket_reply",
    "ticket_set_status",
    "ticket_take",
    "ticket_watcher_add",
    "ticket_watcher_remove",
    "watcher_candidates",
    "watchers_from_cc",
    "tickets_escalate",
    "tickets_refresh_breaches",
]
