"""Admin for status subscriptions: a list to look people up in. Subscribing, confirming and
unsubscribing go through the status pages' links (double opt-in), never the admin."""

from __future__ import annotations

from django.contrib import admin

from status.models import Subscriber, UpdateFanout


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = ["email", "created_at", "confirmed_at", "unsubscribed_at"]
    list_filter = [
        ("confirmed_at", admin.EmptyFieldListFilter),
        ("unsubscribed_at", admin.EmptyFieldListFilter),
    ]
    search_fields = ["email"]
    exclude = ["token"]
    readonly_fields = ["email", "services", "created_at", "confirmed_at", "unsubscribed_at"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(UpdateFanout)
class UpdateFanoutAdmin(admin.ModelAdmin):
    list_display = ["update", "done_at", "messages"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
