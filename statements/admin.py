"""Read-only admin: statements and runs are written by the services only (an issued
statement cannot be changed at all — the database refuses it)."""

from __future__ import annotations

from django.contrib import admin

from statements.models import Statement, StatementRun, StatementRunItem


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Statement)
class StatementAdmin(ReadOnly):
    list_display = ["number", "contract", "month", "revision", "status", "credit_amount"]
    list_filter = ["status", "month"]
    list_select_related = ["contract__customer"]
    search_fields = ["number", "contract__reference", "contract__customer__name"]


class ItemInline(admin.TabularInline):
    model = StatementRunItem
    extra = 0
    fields = ["contract", "status", "error", "statement", "finished_at"]
    readonly_fields = fields
    can_delete = False


@admin.register(StatementRun)
class StatementRunAdmin(ReadOnly):
    list_display = ["month", "trigger", "started_at", "finished_at", "planned", "done", "failed"]
    list_filter = ["trigger", "month"]
    inlines = [ItemInline]
