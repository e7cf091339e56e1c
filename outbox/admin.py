"""Read-only view of the outbox: messages are queued by the services and sent by a task."""

from __future__ import annotations

from django.contrib import admin

from outbox.models import OutboxMessage, WebhookDelivery, WebhookEndpoint


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ("created_at", "subject", "status", "attempts", "sent_at")
    list_filter = ("status",)
    search_fields = ("subject", "dedupe_key")
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]

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
