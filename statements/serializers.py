"""Shapes of the statements API. A statement renders what it recorded (its snapshot):
per-service availability with the counted and excluded outages, and the credit with
its working; and each credit's state now (``credits``, ``credit_totals``: from
``statements.credit_report``). The generate input only parses; planning is the services' job."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from contracts.models import Contract
from statements.credit_report import credit_report
from statements.forms import month_to_generate
from statements.models import Statement, StatementRun


class OutageVerdictSerializer(serializers.Serializer):
    outage_id = serializers.IntegerField()
    title = serializers.CharField()
    category = serializers.CharField()
    category_label = serializers.CharField()
    started_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)
    minutes = serializers.CharField(help_text="Minutes counted or excluded in the month.")
    code = serializers.CharField()
    reason = serializers.CharField()


class StatementServiceSerializer(serializers.Serializer):
    service_id = serializers.IntegerField()
    name = serializers.CharField()
    monthly_fee = serializers.DecimalField(max_digits=14, decimal_places=2)
    availability_pct = serializers.CharField(help_text="Percent, cut (never rounded up).")
    met = serializers.BooleanField(help_text="Whether the target was met.")
    denominator_minutes = serializers.CharField()
    downtime_minutes = serializers.CharField()
    counted = OutageVerdictSerializer(many=True)
    excluded = OutageVerdictSerializer(many=True)


class WorkingLineSerializer(serializers.Serializer):
    label = serializers.CharField()
    value = serializers.CharField()
    clause = serializers.CharField(allow_blank=True)


class CreditWorkingSerializer(serializers.Serializer):
    service_id = serializers.IntegerField()
    service = serializers.CharField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    status = serializers.CharField(
        required=False,
        help_text="The credit's status when issued (absent on a draft); its state now is "
        "in credits.",
    )
    band = serializers.JSONField(allow_null=True)
    working = WorkingLineSerializer(many=True)


class CreditApplicationSerializer(serializers.Serializer):
    invoice = serializers.CharField(help_text="The invoice's number.")
    credit_note = serializers.CharField(help_text="The credit note's number.")
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    reversed_by = serializers.CharField(
        allow_blank=True, help_text="The reversing credit note's number; blank: in force."
    )
    revision = serializers.IntegerField(help_text="The credit revision the note was issued for.")


class CreditStateSerializer(serializers.Serializer):
    """A credit of the statement as it stands now, read from the ledger and credit notes."""

    credit_id = serializers.IntegerField()
    service_id = serializers.IntegerField()
    service = serializers.CharField()
    revision = serializers.IntegerField()
    amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, help_text="As computed for the statement."
    )
    status = serializers.ChoiceField(
        choices=[
            "pending",
            "approved",
            "applied",
            "partly_applied",
            "expired",
            "withdrawn",
            "rejected",
            "ineligible",
            "replaced",
        ],
        help_text="Now: pending; approved (granted, on no invoice yet); applied or "
        "partly_applied (see applications); expired (termination); withdrawn (the grant "
        "was reversed, e.g. by a later revision); rejected or ineligible (see reason); "
        "replaced (withdrawn by a later revision before any decision).",
    )
    decision = serializers.CharField(help_text="The credit's own decision status.")
    label = serializers.CharField()
    description = serializers.CharField(
        source="sentence", help_text="What became of the credit, in words."
    )
    reason = serializers.CharField(allow_blank=True, help_text="Why rejected or not eligible.")
    applications = CreditApplicationSerializer(many=True)
    remaining = serializers.DecimalField(
        max_digits=14, decimal_places=2, help_text="Granted and on no invoice yet."
    )
    granted = serializers.DecimalField(
        max_digits=14, decimal_places=2, help_text="What the ledger granted for this credit."
    )
    previously_credited = serializers.DecimalField(
        source="previously",
        max_digits=14,
        decimal_places=2,
        help_text="On a revision: what the earlier revision in force had granted.",
    )
    net_change = serializers.DecimalField(
        source="net",
        max_digits=14,
        decimal_places=2,
        allow_null=True,
        help_text="Granted less previously credited; null while pending.",
    )


class CreditTotalsSerializer(serializers.Serializer):
    granted = serializers.DecimalField(max_digits=14, decimal_places=2)
    previously_credited = serializers.DecimalField(
        source="previously", max_digits=14, decimal_places=2
    )
    net_change = serializers.DecimalField(source="net", max_digits=14, decimal_places=2)
    pending = serializers.DecimalField(
        max_digits=14, decimal_places=2, help_text="Awaiting a decision: not granted yet."
    )
    refused = serializers.DecimalField(
        max_digits=14, decimal_places=2, help_text="Rejected or not eligible."
    )
    applied = serializers.DecimalField(
        max_digits=14, decimal_places=2, help_text="On invoices by credit notes in force."
    )
    awaiting = serializers.BooleanField(help_text="Whether a credit awaits a decision.")


class StoredPdfErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.ChoiceField(choices=["altered", "missing"])


class StatementSerializer(serializers.ModelSerializer):
    customer = serializers.IntegerField(source="contract.customer_id", read_only=True)
    month = serializers.SerializerMethodField(help_text="The statement's month, YYYY-MM.")
    services = serializers.SerializerMethodField()
    working = serializers.SerializerMethodField(
        help_text="The credit per service with its working (a draft shows what the rules "
        "would give)."
    )
    pdf = serializers.SerializerMethodField(help_text="Where to download the PDF.")
    credits = serializers.SerializerMethodField(
        help_text="Each credit of the statement as it stands now (empty on a draft)."
    )
    credit_totals = serializers.SerializerMethodField(
        help_text="Granted, previously credited (a revision), net change, pending, refused."
    )

    class Meta:
        model = Statement
        fields = [
            "id",
            "number",
            "revision",
            "status",
            "customer",
            "contract",
            "month",
            "services",
            "credit_amount",
            "currency",
            "credits",
            "credit_totals",
            "working",
            "reason",
            "supersedes",
            "pdf",
            "created_at",
            "issued_at",
            "emailed_at",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_month(self, statement: Statement) -> str:
        return f"{statement.month:%Y-%m}"

    @extend_schema_field(StatementServiceSerializer(many=True))
    def get_services(self, statement: Statement) -> list:
        rows = statement.snapshot.get("services", [])
        return StatementServiceSerializer(rows, many=True).data

    @extend_schema_field(CreditWorkingSerializer(many=True))
    def get_working(self, statement: Statement) -> list:
        snapshot = statement.snapshot
        draft = statement.status == Statement.Status.DRAFT
        rows = (snapshot.get("preview") if draft else snapshot.get("credits")) or []
        return CreditWorkingSerializer(rows, many=True).data

    def _report(self, statement: Statement) -> dict:
        reports = self.context.get("credit_reports")
        if reports is not None and statement.pk in reports:
            return reports[statement.pk]
        return credit_report(statement)

    @extend_schema_field(CreditStateSerializer(many=True))
    def get_credits(self, statement: Statement) -> list:
        return CreditStateSerializer(self._report(statement)["lines"], many=True).data

    @extend_schema_field(CreditTotalsSerializer)
    def get_credit_totals(self, statement: Statement) -> dict:
        return CreditTotalsSerializer(self._report(statement)["totals"]).data

    @extend_schema_field(OpenApiTypes.URI)
    def get_pdf(self, statement: Statement) -> str:
        path = f"/api/v1/statements/{statement.pk}/pdf/"
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class GenerateInputSerializer(serializers.Serializer):
    month = serializers.CharField(help_text="The month to generate, YYYY-MM (ended).")
    contract = serializers.PrimaryKeyRelatedField(
        queryset=Contract.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text="Only this contract (default: every contract owed a statement).",
    )

    def validate_month(self, value: str):
        from django.core.exceptions import ValidationError

        try:
            return month_to_generate(value)
        except ValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc


class GenerateResultSerializer(serializers.Serializer):
    run = serializers.IntegerField(allow_null=True, help_text="The run planned, if any.")
    month = serializers.CharField()
    planned = serializers.IntegerField()
    done = serializers.IntegerField()
    failed = serializers.IntegerField()


class ReissueInputSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=250, help_text="Shown on the new revision and in its e-mail."
    )
    force = serializers.BooleanField(
        default=False, help_text="Re-issue even if the figures have not changed."
    )


class RunFailureSerializer(serializers.Serializer):
    contract = serializers.IntegerField(source="contract_id")
    customer = serializers.CharField(source="contract.customer.name")
    error = serializers.CharField()


class StatementRunSerializer(serializers.ModelSerializer):
    month = serializers.SerializerMethodField(help_text="The run's month, YYYY-MM.")
    failures = serializers.SerializerMethodField(
        help_text="The contracts that failed in this run, with the error recorded."
    )

    class Meta:
        model = StatementRun
        fields = [
            "id",
            "month",
            "trigger",
            "started_at",
            "finished_at",
            "planned",
            "done",
            "failed",
            "retry_of",
            "created_by",
            "failures",
        ]
        read_only_fields = fields

    def get_month(self, run: StatementRun) -> str:
        return f"{run.month:%Y-%m}"

    @extend_schema_field(RunFailureSerializer(many=True))
    def get_failures(self, run: StatementRun) -> list[dict]:
        return RunFailureSerializer(getattr(run, "failed_items", []), many=True).data


class RetryResultSerializer(serializers.Serializer):
    run = StatementRunSerializer(
        allow_null=True, help_text="The new run for the failed contracts; null: none left."
    )
