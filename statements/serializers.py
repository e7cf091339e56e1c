"""Shapes of the statements API. A statement renders what it recorded (its snapshot):
per-service availability with the counted and excluded outages, and the credit with
its working. The generate input only parses; planning is the services' job."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from contracts.models import Contract
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
        required=False, help_text="The credit's status when issued (absent on a draft)."
    )
    band = serializers.JSONField(allow_null=True)
    working = WorkingLineSerializer(many=True)


class StatementSerializer(serializers.ModelSerializer):
    customer = serializers.IntegerField(source="contract.customer_id", read_only=True)
    month = serializers.SerializerMethodField(help_text="The statement's month, YYYY-MM.")
    services = serializers.SerializerMethodField()
    working = serializers.SerializerMethodField(
        help_text="The credit per service with its working (a draft shows what the rules "
        "would give)."
    )
    pdf = serializers.SerializerMethodField(help_text="Where to download the PDF.")

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
