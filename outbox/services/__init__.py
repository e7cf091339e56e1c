"""The outbox's services: e-mail (``email``, and ``recovery`` after a crash), webhook
events and their delivery (``webhooks``), and the administration of webhook endpoints
(``endpoints``)."""

from outbox.services.email import (
    OVERDUE_AFTER,
    Delivery,
    OutboxFile,
    backoff,
    is_temporary,
    mail_domain,
    outbox_deliver,
    outbox_enqueue,
)
from outbox.services.endpoints import (
    webhook_endpoint_create,
    webhook_endpoint_deactivate,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_update,
    webhook_replay,
)
from outbox.services.recovery import (
    Reconciled,
    outbox_confirm_delivered,
    outbox_dispatch_overdue,
    outbox_reconcile,
    outbox_release,
)
from outbox.services.webhooks import (
    active_endpoints,
    webhook_deliver,
    webhook_dispatch_overdue,
    webhook_emit,
)

__all__ = [
    "active_endpoints",
    "OVERDUE_AFTER",
    "Delivery",
    "OutboxFile",
    "Reconciled",
    "backoff",
    "is_temporary",
    "mail_domain",
    "outbox_confirm_delivered",
    "outbox_deliver",
    "outbox_dispatch_overdue",
    "outbox_enqueue",
    "outbox_reconcile",
    "outbox_release",
    "webhook_deliver",
    "webhook_dispatch_overdue",
    "webhook_emit",
    "webhook_endpoint_create",
    "webhook_endpoint_deactivate",
    "webhook_endpoint_rotate_secret",
    "webhook_endpoint_update",
    "webhook_replay",
]
