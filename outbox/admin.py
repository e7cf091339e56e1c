"""Read-only view of the outbox: messages are queued by the services and sent by a task.
A held e-mail (its sender died after handing it to the SMTP server) waits here for an
administrator, whose two actions call the services."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError

from outbox import services
from outbox.models import OutboxMessage, WebhookDelivery, WebhookEndpoint


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ("created_at", "subject", "status", "attempts", "sent_at", "data_started_at")
    list_filter = ("status",)
    search_fields = ("subject", "dedupe_key", "message_id")
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]
    actions = ["confirm_delivered", "release"]

    def _decide(self, request, queryset, service: Callable[..., OutboxMessage], done: str) -> None:
        decided = 0
        for message in queryset:
            try:
                service(message_id=message.pk, actor=request.user)
            except (PermissionDenied, ValidationError) as exc:
                refusal = "; ".join(getattr(exc, "messages", None) or [str(exc)])
                self.message_user(request, f"{message}: {refusal}", messages.ERROR)
            else:
                decided += 1
        if decided:
            self.message_user(request, f"{decided} held e-mail {done}.", messages.SUCCESS)

    @admin.action(description="Held: confirm delivered (found in the mail server's log)")
    def confirm_delivered(self, request, queryset) -> None:
        self._decide(request, queryset, services.outbox_confirm_delivered, "confirmed delivered")

    @admin.action(description="Held: send again (not in the mail server's log)")
    def release(self, request, queryset) -> None:
        self._decide(request, queryset, services.outbox_release, "released to be sent again")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """Read-only: replays go through the back-office page, which calls the service."""

    list_display = ("created_at", "event", "endpoint", "status", "attempts", "delivered_at")
    list_filter = ("status", "event")
    search_fields = ("message_id", "dedupe_key")
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    """Read-only, and never the secret: endpoints are managed on the back-office pages."""

    list_display = ("url", "description", "is_active", "updated_at")
    exclude = ("secret",)
    readonly_fields = [f.name for f in WebhookEndpoint._meta.fields if f.name != "secret"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
