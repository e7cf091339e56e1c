"""Shapes of the contracts API.

Read serializers (``…Serializer``) render rows. Input serializers (``…InputSerializer``)
only parse types and shapes; every rule about the values themselves (a known time zone,
bands that tile 0–100 %, an end after the start, a fee that is not negative) lives once in
``contracts.services`` and reaches the client as a 400 through
``slaportal.api.exception_handler``, with the same words the admin and the loader use.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from contracts.calendars import WEEKDAYS
from contracts.models import (
    Calendar,
    Contract,
    ContractLine,
    Customer,
    DowntimeCategory,
    Invoice,
    InvoiceLine,
    PolicyExclusion,
    Service,
    SeverityTerm,
    SLAPolicy,
    TargetUnit,
    User,
)
from contracts.terms import format_clock

# Every stored term of a policy, so a term added to the model appears in the API too.
POLICY_TERMS = [f.name for f in SLAPolicy._meta.concrete_fields if f.name != "id"]


# ---------------------------------------------------------------- customers & services


class CodeRelatedField(serializers.SlugRelatedField):
    """An object named by its code. A code with a NUL character names nothing (and
    PostgreSQL could not even look it up): a field error, never a 500."""

    def to_internal_value(self, data):
        if isinstance(data, str) and "\x00" in data:
            self.fail("does_not_exist", slug_name=self.slug_field, value="(a NUL character)")
        return super().to_internal_value(data)


class CustomerSerializer(serializers.ModelSerializer):
    billing_emails = serializers.ListField(
        child=serializers.EmailField(), source="billing_email_list", read_only=True
    )

    class Meta:
        model = Customer
        fields = [
            "id",
            "name",
            "billing_emails",
            "time_zone",
            "account_managers",
            "is_active",
            "created_at",
        ]
        read_only_fields = fields


class CustomerInputSerializer(serializers.Serializer):
    name = serializers.CharField()
    billing_emails = serializers.ListField(child=serializers.CharField(), min_length=1)
    time_zone = serializers.CharField(default="UTC")
    account_managers = serializers.PrimaryKeyRelatedField(
        many=True,
        required=False,
        queryset=User.objects.all(),
        help_text="User ids; each must hold the account manager role.",
    )


class CustomerUpdateInputSerializer(CustomerInputSerializer):
    is_active = serializers.BooleanField(required=False)


class ServiceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Service
        fields = ["id", "code", "name", "critical", "description"]
        read_only_fields = fields


class ServiceInputSerializer(serializers.Serializer):
    code = serializers.SlugField()
    name = serializers.CharField()
    critical = serializers.BooleanField(default=True)
    description = serializers.CharField(allow_blank=True, default="")


# ---------------------------------------------------------------- calendars


class OpeningHoursField(serializers.DictField):
    """``{"mon": [["03:00", "20:00"]], …}``: local wall-clock (start, end) pairs per weekday;
    "24:00" ends a day. Reading gives all seven days, closed ones as ``[]``."""

    def __init__(self, **kwargs: Any) -> None:
        pair = serializers.ListField(child=serializers.CharField(), min_length=2, max_length=2)
        super().__init__(child=serializers.ListField(child=pair), **kwargs)

    def to_representation(self, intervals: Any) -> dict[str, list[list[str]]]:
        week: dict[str, list[list[str]]] = {day: [] for day in WEEKDAYS}
        for row in intervals.all():
            week[WEEKDAYS[row.weekday]].append(
                [format_clock(row.start_minute), format_clock(row.end_minute)]
            )
        return week


class HolidaySerializer(serializers.Serializer):
    date = serializers.DateField()
    name = serializers.CharField(allow_blank=True, default="")


class CalendarSerializer(serializers.ModelSerializer):
    hours = OpeningHoursField(source="intervals", read_only=True)
    custom_holidays = HolidaySerializer(many=True, read_only=True)

    class Meta:
        model = Calendar
        fields = [
            "code",
            "name",
            "time_zone",
            "hours",
            "holiday_country",
            "holiday_subdivision",
            "custom_holidays",
        ]
        read_only_fields = fields


class CalendarReplaceInputSerializer(serializers.Serializer):
    """A whole calendar; the code comes from the URL."""

    name = serializers.CharField()
    time_zone = serializers.CharField()
    hours = OpeningHoursField()
    holiday_country = serializers.CharField(allow_blank=True, default="")
    holiday_subdivision = serializers.CharField(allow_blank=True, default="")
    custom_holidays = HolidaySerializer(many=True, required=False)


class CalendarInputSerializer(CalendarReplaceInputSerializer):
    """A whole calendar; an existing code is replaced."""

    code = serializers.SlugField()


# ---------------------------------------------------------------- policy terms


class BandSerializer(serializers.Serializer):
    """Availability in [lower_pct, upper_pct) earns credit_pct; upper_pct null = through 100 %."""

    lower_pct = serializers.DecimalField(max_digits=6, decimal_places=3)
    upper_pct = serializers.DecimalField(
        max_digits=6, decimal_places=3, allow_null=True, default=None
    )
    credit_pct = serializers.DecimalField(max_digits=5, decimal_places=2)


class ExclusionSerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=DowntimeCategory.choices)
    treatment = serializers.ChoiceField(choices=PolicyExclusion.Treatment.choices)
    clause = serializers.CharField()


class TargetSerializer(serializers.Serializer):
    """A response or resolution target: ``{"value": 4, "unit": "minutes"}``;
    unit ``none`` (value null) means no target."""

    value = serializers.IntegerField(allow_null=True, default=None)
    unit = serializers.ChoiceField(choices=TargetUnit.choices)


class SeverityInputSerializer(serializers.Serializer):
    severity = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    around_the_clock = serializers.BooleanField(default=False)
    response = TargetSerializer()
    resolution = TargetSerializer()


class SeveritySerializer(serializers.ModelSerializer):
    response = serializers.SerializerMethodField()
    resolution = serializers.SerializerMethodField()

    class Meta:
        model = SeverityTerm
        fields = ["severity", "name", "description", "around_the_clock", "response", "resolution"]
        read_only_fields = fields

    @extend_schema_field(TargetSerializer)
    def get_response(self, term: SeverityTerm) -> dict[str, Any]:
        return {"value": term.response_value, "unit": term.response_unit}

    @extend_schema_field(TargetSerializer)
    def get_resolution(self, term: SeverityTerm) -> dict[str, Any]:
        return {"value": term.resolution_value, "unit": term.resolution_unit}


def _invoice_kinds(**kwargs: Any) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.ChoiceField(choices=Invoice.Kind.choices),
        help_text="The kinds of invoice a credit may be applied to; the first is the default.",
        **kwargs,
    )


class PolicySerializer(serializers.ModelSerializer):
    credit_invoice_kinds = _invoice_kinds(read_only=True)
    measurement_calendar = CodeRelatedField(slug_field="code", read_only=True)
    support_calendar = CodeRelatedField(slug_field="code", read_only=True, allow_null=True)
    # Read as text: empty when the policy names no status page (not a "uri" then).
    status_page_url = serializers.CharField(read_only=True)
    bands = BandSerializer(many=True, read_only=True)
    exclusions = ExclusionSerializer(many=True, read_only=True)
    severities = SeveritySerializer(many=True, read_only=True)

    class Meta:
        model = SLAPolicy
        fields = ["id", *POLICY_TERMS, "bands", "exclusions", "severities"]
        read_only_fields = fields


class PolicyInputSerializer(serializers.ModelSerializer):
    """The same shape as a read policy. Fields come from the model for their types only."""

    credit_invoice_kinds = _invoice_kinds(required=False)
    measurement_calendar = CodeRelatedField(slug_field="code", queryset=Calendar.objects.all())
    support_calendar = CodeRelatedField(
        slug_field="code", queryset=Calendar.objects.all(), allow_null=True, required=False
    )
    bands = BandSerializer(many=True, required=False)
    exclusions = ExclusionSerializer(many=True, required=False)
    severities = SeverityInputSerializer(many=True, required=False)

    class Meta:
        model = SLAPolicy
        fields = [*POLICY_TERMS, "bands", "exclusions", "severities"]
        extra_kwargs = {"version": {"min_value": 1, "default": 1}}
        # policy_upsert decides what an existing code+version means (rewrite or refuse).
        validators: list[Any] = []


# ---------------------------------------------------------------- contracts & invoices


class ContractLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = ContractLine
        fields = ["service", "monthly_fee"]
        read_only_fields = fields


class ContractSerializer(serializers.ModelSerializer):
    policy = CodeRelatedField(slug_field="code", read_only=True)
    policy_version = serializers.IntegerField(source="policy.version", read_only=True)
    support_calendar = CodeRelatedField(
        slug_field="code",
        read_only=True,
        allow_null=True,
        help_text="Order-form support calendar; null: the policy's.",
    )
    lines = ContractLineSerializer(many=True, read_only=True)
    severities = SeveritySerializer(many=True, read_only=True)

    class Meta:
        model = Contract
        fields = [
            "id",
            "customer",
            "policy",
            "policy_version",
            "reference",
            "start_date",
            "end_date",
            "terminated_on",
            "currency",
            "support_calendar",
            "lines",
            "severities",
            "created_at",
        ]
        read_only_fields = fields


class ContractLineInputSerializer(serializers.Serializer):
    service = serializers.PrimaryKeyRelatedField(queryset=Service.objects.all())
    monthly_fee = serializers.DecimalField(max_digits=14, decimal_places=2)


class ContractInputSerializer(serializers.Serializer):
    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.all())
    policy = serializers.SlugField(help_text="SLA policy code from the catalog.")
    policy_version = serializers.IntegerField(
        required=False, min_value=1, help_text="Default: the latest version of the policy."
    )
    reference = serializers.CharField()
    start_date = serializers.DateField()
    end_date = serializers.DateField(
        allow_null=True, default=None, help_text="Last day (inclusive); null: open-ended."
    )
    currency = serializers.CharField()
    lines = ContractLineInputSerializer(many=True)
    support_calendar = CodeRelatedField(
        slug_field="code",
        queryset=Calendar.objects.all(),
        allow_null=True,
        default=None,
        help_text="Order-form support calendar, overriding the policy's.",
    )
    severities = SeverityInputSerializer(
        many=True, required=False, help_text="Order-form severity terms, overriding the policy's."
    )


class InvoiceLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = InvoiceLine
        fields = ["id", "kind", "description", "amount", "created_at"]
        read_only_fields = fields


class InvoiceSerializer(serializers.ModelSerializer):
    """``amount`` is what was invoiced; ``lines`` are the charge and any (negative) service
    credit lines; ``total`` is what is due, their sum."""

    lines = InvoiceLineSerializer(many=True, read_only=True)

    class Meta:
        model = Invoice
        fields = [
            "id",
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
            "lines",
        ]
        read_only_fields = fields


class InvoiceInputSerializer(serializers.Serializer):
    """An invoice from the billing system. Posting a number again is idempotent: the same
    content changes nothing, a new ``paid_at`` records the payment, and different content
    is refused (409) with the differing fields."""

    contract = serializers.PrimaryKeyRelatedField(queryset=Contract.objects.all())
    number = serializers.CharField(max_length=50)
    kind = serializers.ChoiceField(choices=Invoice.Kind.choices, default=Invoice.Kind.SUBSCRIPTION)
    currency = serializers.CharField(
        required=False, help_text="Default: the contract's currency (it must be the contract's)."
    )
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    issued_on = serializers.DateField()
    due_on = serializers.DateField()
    paid_at = serializers.DateTimeField(
        allow_null=True, default=None, help_text="When it was paid; null: not paid (yet)."
    )


class InvoicePaymentInputSerializer(serializers.Serializer):
    """Only the payment of a recorded invoice can change."""

    paid_at = serializers.DateTimeField(
        allow_null=True, help_text="When it was paid; null withdraws a recorded payment."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        frozen = sorted(set(self.initial_data) - {"paid_at"})
        if frozen:
            raise serializers.ValidationError(
                {
                    name: ["An issued invoice cannot change; only paid_at can be set."]
                    for name in frozen
                }
            )
        return attrs


class InvoiceDifferenceSerializer(serializers.Serializer):
    stored = serializers.CharField(help_text="The recorded value.")
    sent = serializers.CharField(help_text="The value in the request.")


class InvoiceConflictSerializer(serializers.Serializer):
    """The body of a 409: the invoice exists with other content."""

    detail = serializers.CharField()
    fields = serializers.DictField(
        child=InvoiceDifferenceSerializer(), help_text="Each differing field: stored and sent."
    )


class PolicyVersionQuerySerializer(serializers.Serializer):
    version = serializers.IntegerField(
        required=False, min_value=1, help_text="A version of the policy; default the latest."
    )


# ---------------------------------------------------------------- a customer's people


class PersonSerializer(serializers.ModelSerializer):
    role = serializers.CharField(source="customer_role", read_only=True)

    class Meta:
        model = User
        fields = ["id", "email", "first_name", "last_name", "role", "is_active", "last_login"]
        read_only_fields = fields


class PersonInputSerializer(serializers.Serializer):
    email = serializers.EmailField(
        max_length=150, help_text="They sign in with it and are e-mailed a link to set a password."
    )
    first_name = serializers.CharField(max_length=150)
    last_name = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(choices=User.CustomerRole.choices, default="user")


class PersonChangeInputSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=User.CustomerRole.choices, required=False)
    is_active = serializers.BooleanField(
        required=False, help_text="false deactivates (they can no longer sign in)."
    )
