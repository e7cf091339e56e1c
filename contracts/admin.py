"""Admin for all contracts data. Row-spanning rules (opening intervals that must not
overlap, credit bands that must tile 0–100 %) are checked in the inline formsets with
the same pure functions the loader and the API use; the admin's change view runs in a
transaction, so a refused form saves nothing."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import ValidationError
from django.db import models

from contracts import calendars, services
from contracts.models import (
    Calendar,
    CalendarHoliday,
    Contract,
    ContractLine,
    CreditBand,
    Customer,
    Invoice,
    InvoiceLine,
    OpeningInterval,
    PolicyExclusion,
    Service,
    SeverityTerm,
    SLAPolicy,
    User,
)
from contracts.terms import (
    Band,
    TermsError,
    check_bands,
    check_severities,
    format_clock,
    parse_clock,
)

WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

admin.site.site_header = "SLA Portal administration"
admin.site.site_title = "SLA Portal admin"


def _policy_in_use(obj) -> bool:
    """A policy version that contracts point at is frozen: changes need a new version."""
    policy = obj if isinstance(obj, SLAPolicy) else None
    return policy is not None and policy.pk is not None and policy.contracts.exists()


class FrozenWhenInUse:
    def has_change_permission(self, request, obj=None):
        return not _policy_in_use(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not _policy_in_use(obj) and super().has_delete_permission(request, obj)


class FrozenInlineWhenInUse(FrozenWhenInUse):
    def has_add_permission(self, request, obj):
        return not _policy_in_use(obj) and super().has_add_permission(request, obj)


def _live_forms(formset: forms.BaseInlineFormSet):
    for form in formset.forms:
        if not hasattr(form, "cleaned_data") or not form.cleaned_data:
            continue
        if form.cleaned_data.get("DELETE"):
            continue
        yield form


class ClockField(forms.Field):
    """HH:MM, 00:00–24:00, stored as minutes after midnight."""

    widget = forms.TextInput(attrs={"size": 5, "placeholder": "HH:MM"})

    def prepare_value(self, value):
        return format_clock(value) if isinstance(value, int) else value

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return parse_clock(value)
        except TermsError as exc:
            raise ValidationError(str(exc)) from None


class OpeningIntervalForm(forms.ModelForm):
    start_minute = ClockField(label="Opens (HH:MM)")
    end_minute = ClockField(label="Closes (HH:MM, 24:00 = midnight)")

    class Meta:
        model = OpeningInterval
        fields = ["weekday", "start_minute", "end_minute"]


class OpeningIntervalFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        hours: dict[str, list[tuple[str, str]]] = {}
        for form in _live_forms(self):
            data = form.cleaned_data
            if data.get("start_minute") is None or data.get("end_minute") is None:
                continue
            hours.setdefault(WEEKDAY_KEYS[data["weekday"]], []).append(
                (format_clock(data["start_minute"]), format_clock(data["end_minute"]))
            )
        try:
            calendars.parse_hours(hours)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class OpeningIntervalInline(admin.TabularInline):
    model = OpeningInterval
    form = OpeningIntervalForm
    formset = OpeningIntervalFormSet
    extra = 0


class CalendarHolidayInline(admin.TabularInline):
    model = CalendarHoliday
    extra = 0


@admin.register(Calendar)
class CalendarAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "time_zone", "holiday_country"]
    search_fields = ["code", "name"]
    inlines = [OpeningIntervalInline, CalendarHolidayInline]


class CreditBandFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        bands = [
            Band(
                f.cleaned_data["lower_pct"],
                f.cleaned_data.get("upper_pct"),
                f.cleaned_data["credit_pct"],
            )
            for f in _live_forms(self)
            if f.cleaned_data.get("lower_pct") is not None
            and f.cleaned_data.get("credit_pct") is not None
        ]
        if self.instance.credit_rule != SLAPolicy.CreditRule.TIERED:
            if bands:
                raise ValidationError("Only a tiered credit rule has availability bands.")
            return
        try:
            check_bands(bands)
        except TermsError as exc:
            raise ValidationError(str(exc)) from None


class CreditBandInline(FrozenInlineWhenInUse, admin.TabularInline):
    model = CreditBand
    formset = CreditBandFormSet
    extra = 0


class PolicyExclusionInline(FrozenInlineWhenInUse, admin.StackedInline):
    model = PolicyExclusion
    extra = 0


class SeverityFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        try:
            check_severities(
                [
                    f.cleaned_data["severity"]
                    for f in _live_forms(self)
                    if f.cleaned_data.get("severity") is not None
                ]
            )
        except TermsError as exc:
            raise ValidationError(str(exc)) from None


class SeverityTermInline(admin.StackedInline):
    model = SeverityTerm
    formset = SeverityFormSet
    fk_name = None
    extra = 0


class PolicySeverityInline(FrozenInlineWhenInUse, SeverityTermInline):
    fk_name = "policy"
    exclude = ["contract"]


class ContractSeverityInline(SeverityTermInline):
    fk_name = "contract"
    exclude = ["policy"]
    verbose_name_plural = "Severity terms (order form overrides)"


@admin.register(SLAPolicy)
class SLAPolicyAdmin(FrozenWhenInUse, admin.ModelAdmin):
    list_display = [
        "code",
        "version",
        "name",
        "target_availability",
        "credit_rule",
        "effective_from",
        "effective_to",
    ]
    list_filter = ["credit_rule", "denominator_basis"]
    search_fields = ["code", "name"]
    inlines = [CreditBandInline, PolicyExclusionInline, PolicySeverityInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def save_model(self, request, obj, form, change):
        # The terms as they were, bands and all, before this form writes anything.
        form.terms_before = (
            services.policy_terms_snapshot(SLAPolicy.objects.get(pk=obj.pk)) if change else None
        )
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        services.policy_publication_record(
            policy=form.instance, before=form.terms_before, actor=request.user
        )

    fieldsets = [
        (
            None,
            {
                "fields": [
                    "code",
                    "version",
                    "name",
                    "source_document",
                    "effective_from",
                    "effective_to",
                    "change_notice_days",
                ]
            },
        ),
        (
            "Availability",
            {
                "fields": [
                    "target_availability",
                    "measurement_calendar",
                    "denominator_basis",
                    "downtime_starts_at",
                    "significant_subset_pct",
                    "counts_only_critical_services",
                ]
            },
        ),
        (
            "Credits",
            {
                "fields": [
                    "credit_rule",
                    "credit_multiplier",
                    "credit_cap_pct",
                    "requires_paid_invoices",
                    "credits_expire_on_termination",
                    "credits_cash_refundable",
                    "credits_sole_remedy",
                    "credit_applies_to",
                    "credit_invoice_kinds",
                ]
            },
        ),
        (
            "Support",
            {
                "fields": [
                    "support_terms_in_order_form",
                    "support_calendar",
                    "support_language",
                    "support_channels",
                    "off_hours_severity1_channel",
                    "unregistered_sender_severity",
                    "support_notes",
                    "filing_notice",
                ]
            },
        ),
        (
            "Data protection",
            {
                "fields": [
                    "backup_retention_days",
                    "backup_frequency",
                    "rpo_hours",
                    "status_page_url",
                ]
            },
        ),
    ]


class ContractLineFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        if not any(True for _ in _live_forms(self)):
            raise ValidationError("A contract needs at least one service line.")


class ContractLineInline(admin.TabularInline):
    model = ContractLine
    formset = ContractLineFormSet
    extra = 1


@admin.register(Contract)
class ContractAdmin(admin.ModelAdmin):
    """Adding writes the rows directly; a change goes through ``contract_change`` (the
    terms and the service lines at once), so it is audit-logged. The customer and the
    currency are fixed once the contract exists: its invoices and credits are theirs."""

    list_display = [
        "reference",
        "customer",
        "policy",
        "start_date",
        "end_date",
        "terminated_on",
        "currency",
    ]
    list_filter = ["policy__code", "currency"]
    search_fields = ["reference", "customer__name"]
    autocomplete_fields = ["customer"]
    inlines = [ContractLineInline, ContractSeverityInline]

    def get_readonly_fields(self, request, obj=None):
        return ["customer", "currency"] if obj is not None and obj.pk else []

    def save_model(self, request, obj, form, change):
        if not change:
            super().save_model(request, obj, form, change)
        # A change is written by save_related, with its lines, through the service.

    def save_related(self, request, form, formsets, change):
        if not change:
            super().save_related(request, form, formsets, change)
            return
        lines = None
        for formset in formsets:
            if formset.model is ContractLine:
                lines = [
                    (f.cleaned_data["service"], f.cleaned_data["monthly_fee"])
                    for f in _live_forms(formset)
                    if f.cleaned_data.get("service") is not None
                ]
                # The admin's change message reads these from a saved formset.
                formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        terms = {k: v for k, v in form.cleaned_data.items() if k in services.CONTRACT_CHANGEABLE}
        services.contract_change(contract=form.instance, actor=request.user, lines=lines, **terms)
        form.save_m2m()
        for formset in formsets:
            if formset.model is not ContractLine:
                self.save_formset(request, form, formset, change=change)


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["name", "time_zone", "billing_emails", "is_active"]
    search_fields = ["name"]
    filter_horizontal = ["account_managers"]


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "critical"]
    search_fields = ["name", "code"]


class InvoiceLineInline(admin.TabularInline):
    """Lines are never changed or deleted (the database refuses it): a correction is a
    new line, written by the credits services."""

    model = InvoiceLine
    fields = ["kind", "description", "amount", "created_at"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class InvoiceAddForm(forms.ModelForm):
    """A new invoice, validated by the service that records it."""

    class Meta:
        model = Invoice
        fields = [
            "contract",
            "number",
            "kind",
            "period_start",
            "period_end",
            "amount",
            "issued_on",
            "due_on",
            "paid_at",
        ]

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            services.invoice_build(**{name: data.get(name) for name in self.Meta.fields})
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                field = name if name in self.fields else None
                for message in messages:
                    self.add_error(field, message)
        return data


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    """Recorded invoices are the billing system's documents: on a change only the payment
    (``paid_at``) is editable, and it goes through ``invoice_pay`` (audit-logged). A new
    invoice goes through ``invoice_create``. Invoices are never deleted."""

    list_display = [
        "number",
        "kind",
        "customer",
        "period_start",
        "period_end",
        "amount",
        "total",
        "currency",
        "due_on",
        "paid_at",
    ]
    list_filter = ["kind", "currency"]
    search_fields = ["number", "customer__name"]
    inlines = [InvoiceLineInline]
    change_fields = [
        "number",
        "kind",
        "customer",
        "contract",
        "period_start",
        "period_end",
        "amount",
        "total",
        "currency",
        "issued_on",
        "due_on",
        "paid_at",
    ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = InvoiceAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        return self.change_fields if obj is not None else InvoiceAddForm.Meta.fields

    def get_readonly_fields(self, request, obj=None):
        return [f for f in self.change_fields if f != "paid_at"] if obj is not None else []

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            if "paid_at" in form.changed_data:
                services.invoice_pay(
                    invoice=obj, paid_at=form.cleaned_data["paid_at"], actor=request.user
                )
            return
        created = services.invoice_create(
            actor=request.user, **{name: form.cleaned_data.get(name) for name in form.Meta.fields}
        )
        obj.pk, obj.customer_id, obj.currency, obj.total = (
            created.pk,
            created.customer_id,
            created.currency,
            created.total,
        )
        obj._state.adding = False


@admin.register(User)
class PortalUserAdmin(UserAdmin):
    list_display = ["username", "email", "customer", "customer_role", "is_staff", "is_active"]
    list_filter = ["is_staff", "customer_role", "groups"]
    fieldsets = [
        *UserAdmin.fieldsets,
        ("Organisation", {"fields": ["customer", "customer_role", "time_zone"]}),
    ]
    autocomplete_fields = ["customer"]
