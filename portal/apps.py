from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The shell: root URLs, role homes, dashboards, /healthz, the demo and schedules."""

    name = "portal"
    verbose_name = "Portal"

    def ready(self) -> None:
        from outbox.signals import webhook_changed

        webhook_changed.connect(audit_webhook_change, dispatch_uid="portal-audit-webhooks")


def audit_webhook_change(sender, *, actor, action, obj, changes, reason="", **kwargs) -> None:
    """The outbox cannot import the audit log (same layer), so it announces each change
    to a webhook endpoint or delivery and the shell writes the entry, in the same
    transaction."""
    from audit.services import audit_record

    audit_record(actor=actor, action=action, obj=obj, changes=changes, reason=reason)
