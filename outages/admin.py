"""Admin for outages. The change form runs the services' own validation
(``outage_validate``), so the admin refuses exactly what the back-office pages and the
API refuse; the admin's change view runs in a transaction, so a refused form saves
nothing. Re-issue requests, alerts and alert sources are written by the services only (a source's
token is shown once, on the operations page that creates it): read-only here."""

from __future__ import annotations

import copy

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import construct_instance
from django.utils import timezone

from outages.models import Alert, AlertRoute, AlertSource, Outage, OutageUpdate, ReissueRequest
from outages.services import outage_changed, outage_snapshot, outage_validate
from outages.stages import default_impact


class OutageAdminForm(forms.ModelForm):
    impact = forms.ChoiceField(
        choices=[("", "From the cause"), *Outage.Impact.choices],
        required=False,
        help_text="Empty: degraded for slow-but-usable causes, else a major outage.",
    )

    class Meta:
        model = Outage
        fields = [
            "service",
            "title",
            "category",
            "impact",
            "started_at",
            "confirmed_at",
            "ended_at",
            "announced_at",
            "scope",
            "customers",
            "description",
            "internal_notes",
        ]

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.errors:
            return cleaned  # a field is already refused; the rules need every field
        cleaned["impact"] = cleaned.get("impact") or default_impact(cleaned.get("category", ""))
        # A copy: the form's instance is only filled in after clean(), in _post_clean().
        candidate = construct_instance(self, copy.copy(self.instance), self._meta.fields)
        try:
            outage_validate(candidate, list(cleaned.get("customers") or []), timezone.now())
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                self.add_error(name if name in self.fields else None, messages)
        return cleaned


class OutageUpdateInline(admin.TabularInline):
    model = OutageUpdate
    extra = 0
    fields = ["posted_at", "public", "stage", "text", "author"]
    raw_id_fields = ["author"]


@admin.register(Outage)
class OutageAdmin(admin.ModelAdmin):
    form = OutageAdminForm
    list_display = ["title", "service", "category", "impact", "scope", "started_at", "ended_at"]
    list_filter = [
        "service",
        "category",
        "impact",
        "scope",
        "source",
        ("ended_at", admin.EmptyFieldListFilter),
        ("dismissed_at", admin.EmptyFieldListFilter),
    ]
    list_select_related = ["service"]
    search_fields = ["title"]
    date_hierarchy = "started_at"
    filter_horizontal = ["customers"]
    inlines = [OutageUpdateInline]
    readonly_fields = [
        "source",
        "dismissed_at",
        "dismissed_by",
        "dismiss_reason",
        "created_by",
        "created_at",
        "updated_at",
    ]

    def save_model(self, request, obj, form, change) -> None:
        now = timezone.now()
        if change:
            stored = Outage.objects.prefetch_related("customers").get(pk=obj.pk)
            request._outage_before = (*outage_snapshot(stored, now), stored.service_id)
        else:
            obj.created_by = request.user
            request._outage_before = (None, None, None)
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change) -> None:
        # The scope's customers are saved here, so the re-issue check runs after them.
        super().save_related(request, form, formsets, change)
        before, before_scope, before_service_id = request._outage_before
        outage_changed(
            outage=form.instance,
            before=before,
            before_scope=before_scope,
            before_service_id=before_service_id,
            actor=request.user,
            now=timezone.now(),
        )


@admin.register(ReissueRequest)
class ReissueRequestAdmin(admin.ModelAdmin):
    list_display = [
        "contract",
        "month",
        "outage",
        "reason",
        "requested_at",
        "resolved_at",
        "resolution",
    ]
    list_filter = [("resolved_at", admin.EmptyFieldListFilter), "resolution", "month"]
    list_select_related = ["contract__customer", "outage__service"]
    search_fields = ["contract__reference", "contract__customer__name", "reason"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AlertSource)
class AlertSourceAdmin(ReadOnlyAdmin):
    list_display = ["name", "active", "created_at"]
    exclude = ["token_sha256"]


@admin.register(AlertRoute)
class AlertRouteAdmin(admin.ModelAdmin):
    list_display = ["label", "value", "source", "service", "category", "impact", "position"]
    list_select_related = ["source", "service"]


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ["fingerprint", "source", "starts_at", "ends_at", "outage", "received_at"]
    list_filter = ["source", ("outage", admin.EmptyFieldListFilter)]
    list_select_related = ["source", "outage"]
