"""``webhook_changed``: sent inside the transaction of every change to a webhook endpoint
or delivery, with ``actor`` (None for the system), ``action``, ``obj``, ``changes``
(``{field: {"before": …, "after": …}}``) and ``reason``. The outbox cannot import the
audit log (same layer); the portal receives it and writes the audit entry."""

from __future__ import annotations

from django.dispatch import Signal

webhook_changed = Signal()
