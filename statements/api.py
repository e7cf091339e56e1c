"""The statements REST API under /api/v1/.

Reading follows the API's tenant rule (``TenantScopedQuerysetMixin``): a customer person
reads their own organisation's issued and superseded statements (never a draft; another
organisation's statement, or a draft, is a 404), staff read every one. ``pdf/`` answers
the document as an attachment (rendered on the fly while it is not stored yet; a stored
one only when its SHA-256 matches: else 409 altered / 503 missing, as JSON).
``generate/`` is for account managers and administrators: it plans a month's run with
the same service as the hourly job (trigger ``api``) and answers the run's counts; so
are ``{id}/draft/`` (regenerate a draft from the current figures), ``{id}/reissue/``
(re-issue an issued month) and ``statement-runs/{id}/retry/`` (retry a run's failed
contracts), the staff pages' actions through the same services. Runs are read by the
pages' readers: account managers, operations and administrators.
"""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from slaportal import roles
from slaportal.viewsets import BaseViewSet, RolePermission
from statements.credit_report import credit_reports
from statements.filters import StatementFilter
from statements.models import Statement, StatementRun, StatementRunItem
from statements.serializers import (
    GenerateInputSerializer,
    GenerateResultSerializer,
    ReissueInputSerializer,
    RetryResultSerializer,
    StatementRunSerializer,
    StatementSerializer,
    StoredPdfErrorSerializer,
)
from statements.services import (
    statement_generate,
    statement_reissue,
    statement_run_retry,
    statements_plan,
)
from statements.stored_pdf import StoredPdfError
from statements.views.common import pdf_response

ACTORS = frozenset({roles.ACCOUNT_MANAGER, roles.ADMIN})
RUN_READERS = frozenset({roles.ACCOUNT_MANAGER, roles.OPERATIONS, roles.ADMIN})
STAFF_ONLY = OpenApiResponse(description="Not an account manager or administrator.")


class StatementViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """Monthly availability statements (newest month first)."""

    queryset = Statement.objects.select_related("contract").order_by(
        "-month", "contract_id", "-revision"
    )
    serializer_class = StatementSerializer
    filterset_class = StatementFilter
    write_roles = frozenset({roles.ACCOUNT_MANAGER, roles.ADMIN})
    # The statements pages' readers: account managers and operations (agents work
    # tickets; they read no statements, drafts or PDFs).
    staff_readers = frozenset({roles.ACCOUNT_MANAGER, roles.OPERATIONS})

    def get_queryset(self) -> QuerySet[Statement]:
        statements = self.scope(super().get_queryset(), customer_field="contract__customer")
        if self.request.user.customer_id is not None:
            statements = statements.exclude(status=Statement.Status.DRAFT)
        return statements

    @extend_schema(
        responses={
            (200, "application/pdf"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The statement's PDF, as an attachment."
            ),
            404: OpenApiResponse(description="No such statement among those you may read."),
            409: OpenApiResponse(
                StoredPdfErrorSerializer,
                description="The stored PDF does not match its recorded SHA-256 (altered); "
                "it is not served.",
            ),
            503: OpenApiResponse(
                StoredPdfErrorSerializer,
                description="The stored PDF is missing from storage; it is not served.",
            ),
        },
        description="Download the statement's PDF. A stored PDF is served only when its "
        "SHA-256 matches the one recorded when it was rendered.",
    )
    @action(detail=True, methods=["get"])
    def pdf(self, request: Request, pk: str) -> HttpResponse:
        statement = self.get_object()
        try:
            return pdf_response(statement)
        except StoredPdfError as error:
            body = {"detail": error.message, "code": error.problem}
            return Response(StoredPdfErrorSerializer(body).data, status=error.status)

    def list(self, request: Request, *args, **kwargs) -> Response:
        # One credit report read for the whole page (a handful of queries), not per row.
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        rows = list(queryset) if page is None else page
        context = {**self.get_serializer_context(), "credit_reports": credit_reports(rows)}
        data = self.get_serializer(rows, many=True, context=context).data
        return Response(data) if page is None else self.get_paginated_response(data)

    @extend_schema(
        request=GenerateInputSerializer,
        responses={
            200: GenerateResultSerializer,
            400: OpenApiResponse(description="Bad month (not YYYY-MM, or not ended) or contract."),
            403: OpenApiResponse(description="Not an account manager or administrator."),
        },
        description="Generate a month's statements (every contract owed one, or one "
        "contract's) with the same service as the scheduled job. Answers the run and its "
        "counts; run is null when nothing was owed.",
    )
    @action(detail=False, methods=["post"], filterset_class=None, pagination_class=None)
    def generate(self, request: Request) -> Response:
        data = self.parse(GenerateInputSerializer)
        month, contract = data["month"], data["contract"]
        run = statements_plan(
            month=month,
            trigger=StatementRun.Trigger.API,
            contract_ids=[contract.pk] if contract else None,
            actor=request.user,
        )
        if run is not None:
            run.refresh_from_db()  # tasks run in-process (eager) have counted already
        result = {
            "run": run.pk if run else None,
            "month": f"{month:%Y-%m}",
            "planned": run.planned if run else 0,
            "done": run.done if run else 0,
            "failed": run.failed if run else 0,
        }
        return Response(GenerateResultSerializer(result).data, status=status.HTTP_200_OK)

    @extend_schema(
        request=None,
        responses={200: StatementSerializer, 403: STAFF_ONLY},
        description="Regenerate the month's draft from the current figures (a staff "
        "preview; customers never see drafts). When the month is issued already, answers "
        "the issued statement unchanged.",
    )
    @action(detail=True, methods=["post"])
    def draft(self, request: Request, pk: str) -> Response:
        statement = self.get_object()
        result = statement_generate(
            contract=statement.contract, month=statement.month, draft=True, actor=request.user
        )
        return self.respond(result)

    @extend_schema(
        request=ReissueInputSerializer,
        responses={200: StatementSerializer, 403: STAFF_ONLY},
        description="Re-issue an issued month with the reason: a new revision supersedes "
        "this one when the figures changed (or with force). Answers the statement now in "
        "force (this one when nothing was re-issued).",
    )
    @action(detail=True, methods=["post"])
    def reissue(self, request: Request, pk: str) -> Response:
        statement = self.get_object()
        data = self.parse(ReissueInputSerializer)
        result = statement_reissue(
            contract=statement.contract, month=statement.month, actor=request.user, **data
        )
        return self.respond(result)


class RunPermission(RolePermission):
    """The runs page's readers read; account managers and administrators retry."""

    def has_permission(self, request: Request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        return bool(roles.staff_roles(request.user) & RUN_READERS)


class StatementRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """The statement runs (newest first) with their failed contracts."""

    permission_classes = [RunPermission]
    serializer_class = StatementRunSerializer
    write_roles = ACTORS
    staff_only_reads = True

    def get_queryset(self) -> QuerySet[StatementRun]:
        failed = StatementRunItem.objects.filter(
            status=StatementRunItem.Status.FAILED
        ).select_related("contract__customer")
        runs = StatementRun.objects.prefetch_related(
            Prefetch("items", queryset=failed.order_by("pk"), to_attr="failed_items")
        ).order_by("-started_at", "-pk")
        return self.scope(runs, customer_field=None)

    @extend_schema(
        request=None,
        responses={200: RetryResultSerializer, 403: STAFF_ONLY},
        description="Retry the run's failed contracts still owed a statement, as a new "
        "run (trigger retry); run is null when none is left.",
    )
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk: str) -> Response:
        run = statement_run_retry(run=self.get_object(), actor=request.user)
        if run is not None:
            run = self.get_queryset().get(pk=run.pk)
        return Response(RetryResultSerializer({"run": run}).data)
