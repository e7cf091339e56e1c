from django.contrib import admin
from django.http import HttpRequest

from audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: entries are written by the services and never changed (the database
    refuses it as well)."""

    list_display = ("at", "actor_label", "action", "object_type", "object_label", "reason")
    list_filter = ("action", "object_type")
    search_fields = ("object_label", "actor_label", "object_id", "reason", "request_id")
    date_hierarchy = "at"
    ordering = ("-at", "-pk")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
