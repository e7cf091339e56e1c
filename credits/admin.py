"""Read-only admin for credits and the ledger: every write goes through the services
(which check authority, lock rows and keep the balance equal to the ledger), and ledger
rows cannot be changed at all (database triggers)."""

from __future__ import annotations

from django.contrib import admin

from credits.models import Balance, Credit, CreditEvent, LedgerEntry, ManualAdjustment


class ReadOnly:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CreditEventInline(ReadOnly, admin.TabularInline):
    model = CreditEvent
    fields = ("at", "action", "actor", "note")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Credit)
class CreditAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ("contract", "service", "month", "amount", "currency", "status", "decided_by")
    list_filter = ("status", "currency", "month")
    search_fields = ("contract__reference", "contract__customer__name", "service__name")
    list_select_related = ("contract__customer", "service", "decided_by")
    readonly_fields = (
        "contract",
        "service",
        "month",
        "revision",
        "amount",
        "currency",
        "availability_pct",
        "status",
        "reason",
        "working",
        "computed_at",
        "decided_by",
        "decided_at",
    )
    inlines = [CreditEventInline]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ("created_at", "customer", "kind", "amount", "currency", "description")
    list_filter = ("kind", "currency")
    search_fields = ("customer__name", "description")
    list_select_related = ("customer",)
    readonly_fields = (
        "customer",
        "contract",
        "kind",
        "amount",
        "currency",
        "description",
        "credit",
        "invoice_line",
        "reverses",
        "created_by",
        "created_at",
    )

    def get_actions(self, request):
        return {}  # no bulk delete: ledger rows are append-only


@admin.register(Balance)
class BalanceAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ("customer", "currency", "amount", "updated_at")
    search_fields = ("customer__name",)
    readonly_fields = ("customer", "currency", "amount", "updated_at")

    def get_actions(self, request):
        return {}


@admin.register(ManualAdjustment)
class ManualAdjustmentAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ("requested_at", "customer", "amount", "currency", "status", "requested_by")
    list_filter = ("status", "currency")
    readonly_fields = (
        "customer",
        "contract",
        "amount",
        "currency",
        "reason",
        "status",
        "requested_by",
        "requested_at",
        "decided_by",
        "decided_at",
        "entry",
    )
