"""Read-only admin for tickets: every change goes through ``tickets.services`` (which
checks who may act and keeps the SLA clock columns right)."""

from __future__ import annotations

from django.contrib import admin

from tickets.models import Escalation, Ticket, TicketEvent, TicketMessage


class ReadOnly:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class TicketMessageInline(ReadOnly, admin.TabularInline):
    model = TicketMessage
    fields = ("created_at", "author", "author_email", "public", "channel", "body")
    readonly_fields = fields
    extra = 0


class TicketEventInline(ReadOnly, admin.TabularInline):
    model = TicketEvent
    fields = (
        "created_at",
        "kind",
        "actor",
        "from_status",
        "to_status",
        "from_severity",
        "to_severity",
        "assignee",
        "reason",
    )
    readonly_fields = fields
    extra = 0


@admin.register(Ticket)
class TicketAdmin(ReadOnly, admin.ModelAdmin):
    list_display = (
        "id",
        "subject",
        "customer",
        "severity",
        "status",
        "next_due_at",
        "response_breached",
        "resolution_breached",
    )
    list_filter = ("status", "severity", "channel", "response_breached", "resolution_breached")
    search_fields = ("subject", "customer__name", "sender_email")
    list_select_related = ("customer",)
    readonly_fields = [f.name for f in Ticket._meta.fields]
    inlines = [TicketMessageInline, TicketEventInline]


@admin.register(Escalation)
class EscalationAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ("ticket", "target", "level", "due_at", "created_at")
    list_filter = ("target", "level")
    readonly_fields = [f.name for f in Escalation._meta.fields]
