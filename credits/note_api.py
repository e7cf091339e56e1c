"""The credit notes API under /api/v1/credit-notes/: read-only, with each note's PDF.

A customer person reads their own organisation's notes (another's is a 404); staff read
the notes of the customers they manage as account managers, administrators every note
(the pages' rule). ``{id}/pdf/`` answers the stored PDF once its SHA-256 checks out: a
file that no longer matches is a 409, a missing one a 503, each with the reason in JSON.
"""

from __future__ import annotations

import django_filters as filters
from django.db.models import QuerySet
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from credits import selectors, services
from credits.models import CreditNote, CreditNoteFile
from credits.note_views import UNAVAILABLE_STATUS
from credits.services import CreditNotePdfUnavailable
from slaportal import roles
from slaportal.filters import IdFilter
from slaportal.viewsets import BaseViewSet


class CreditNoteFilter(filters.FilterSet):
    # Plain ids: a customer person asking about another organisation's invoice or credit
    # gets an empty list, not a 400 that would confirm it exists.
    customer = IdFilter(field_name="customer_id")
    invoice = IdFilter(field_name="invoice_id", help_text="Notes on this invoice.")
    credit = IdFilter(field_name="credit_id", help_text="Notes of this credit.")
    year = filters.NumberFilter(
        field_name="year", min_value=1, max_value=9999, help_text="The year of the number."
    )

    class Meta:
        model = CreditNote
        fields = ["customer", "invoice", "credit", "year", "kind", "currency"]


class CreditNoteFileSerializer(serializers.ModelSerializer):
    class Meta:
        model = CreditNoteFile
        fields = ["sha256", "rendered_at"]
        read_only_fields = fields


class CreditNoteSerializer(serializers.ModelSerializer):
    invoice_number = serializers.CharField(source="invoice.number", read_only=True)
    reverses_number = serializers.CharField(
        source="reverses.number",
        read_only=True,
        allow_null=True,
        default=None,
        help_text="The number of the note a reversal reverses.",
    )
    file = serializers.SerializerMethodField(help_text="The stored PDF, once rendered.")

    class Meta:
        model = CreditNote
        fields = [
            "id",
            "number",
            "kind",
            "customer",
            "invoice",
            "invoice_number",
            "credit",
            "reverses",
            "reverses_number",
            "amount",
            "currency",
            "issued_at",
            "details",
            "file",
        ]
        read_only_fields = fields

    @extend_schema_field(CreditNoteFileSerializer(allow_null=True))
    def get_file(self, note: CreditNote) -> dict | None:
        stored = getattr(note, "file", None)
        return CreditNoteFileSerializer(stored).data if stored else None


class PdfUnavailableSerializer(serializers.Serializer):
    detail = serializers.CharField()
    reason = serializers.ChoiceField(choices=["altered", "missing"])


class CreditNoteViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """Credit notes: each applied credit and each reversal (newest first)."""

    queryset = CreditNote.objects.order_by("-issued_at", "-pk")
    serializer_class = CreditNoteSerializer
    filterset_class = CreditNoteFilter
    write_roles: frozenset[str] = frozenset()  # read-only: notes come from the services
    # Money: read by the customer's account managers (and administrators), as the pages.
    staff_readers = frozenset({roles.ACCOUNT_MANAGER})
    managed_reads = True

    def get_queryset(self) -> QuerySet[CreditNote]:
        user = self.request.user
        if user.is_authenticated and user.customer_id is None and roles.is_staff_member(user):
            return selectors.credit_notes_for_staff(user)
        return self.scope(selectors.credit_notes_for_customer_ids(), customer_field="customer")

    @extend_schema(
        filters=False,
        responses={
            (200, "application/pdf"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The credit note's PDF, as an attachment."
            ),
            404: OpenApiResponse(description="No such credit note among those you may read."),
            409: OpenApiResponse(
                PdfUnavailableSerializer,
                description="The stored PDF does not match its SHA-256: it is not served.",
            ),
            503: OpenApiResponse(
                PdfUnavailableSerializer, description="The stored PDF is missing."
            ),
        },
        description="Download the credit note's PDF (checked against its SHA-256 first).",
    )
    @action(detail=True, methods=["get"])
    def pdf(self, request: Request, pk: str) -> HttpResponse | Response:
        note = self.get_object()
        try:
            content = services.credit_note_pdf_bytes(note)
        except CreditNotePdfUnavailable as exc:
            return Response(
                {"detail": str(exc), "reason": exc.reason}, status=UNAVAILABLE_STATUS[exc.reason]
            )
        response = HttpResponse(content, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{note.number}.pdf"'
        return response
