"""The tickets REST API under /api/v1/tickets/: thin, over ``tickets.services``.

Who sees what is ``tickets_visible_to`` (support staff every ticket, a customer person
their organisation's, anyone else none) under the API's one tenant helper, so another
customer's ticket, its messages and its attachments are a 404. Who may do what is the
services' rule and comes back as a 403: a customer person files through the portal,
replies publicly, marks resolved or reopens; support staff log phone and e-mail tickets
with the time received, write internal notes, reclassify, assign and set any status.
Internal notes, and files on them, are left out for customers before anything is
rendered.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Prefetch, Q, QuerySet
from django.http import FileResponse, Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, status
from rest_framework.decorators import action
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from contracts.models import User
from slaportal.storage import unavailable_errors
from slaportal.viewsets import BaseViewSet
from tickets import services
from tickets.filters import TicketFilter
from tickets.models import Attachment, Channel, Ticket
from tickets.selectors import is_support_staff, messages_visible_to, tickets_visible_to
from tickets.serializers import (
    ReclassifyInputSerializer,
    ReplyInputSerializer,
    TicketChangeInputSerializer,
    TicketDetailSerializer,
    TicketInputSerializer,
    TicketMessageSerializer,
    TicketSerializer,
)
from tickets.services.intake import clean_key, earlier_filing

log = logging.getLogger(__name__)

MULTIPART_OR_JSON = ("multipart/form-data", "application/json")
NOT_FOUND = OpenApiResponse(description="No such ticket among those you may see.")
FORBIDDEN = OpenApiResponse(description="Not something you may do on this ticket.")
REFUSED = OpenApiResponse(description="Refused input, with a message per field.")
# What a customer person may not set when filing: the service works these out for them.
STAFF_ONLY_FIELDS = {
    "received_at": "Your ticket is received now; only support staff give a time received.",
    "customer": "You file tickets for your own organisation.",
    "requester": "Only support staff file a ticket on someone else's behalf.",
    "sender_email": "Only support staff give a sender address.",
}


class StorageUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The file storage cannot be reached right now; try again in a few minutes."
    default_code = "storage_unavailable"


class AnyAcceptContentNegotiation(BaseContentNegotiation):
    """A download is the file whatever the client accepts; errors still render as JSON."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def _customer_filing(data: dict[str, Any], user: User) -> None:
    """400 for the fields a customer person does not set (nothing is saved)."""
    errors = {
        name: [message]
        for name, message in STAFF_ONLY_FIELDS.items()
        if data.get(name) not in (None, "")
        and not (name == "customer" and data[name].pk == user.customer_id)
    }
    if data.get("channel") not in (None, Channel.PORTAL):
        errors["channel"] = ["Tickets filed here come through the portal."]
    if errors:
        raise exceptions.ValidationError(errors)


class TicketViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """Support tickets with their SLA clocks (newest first; ``?ordering=due`` for the
    agent queue's order)."""

    # Signed-in people only; which tickets they reach is the queryset's job, what they
    # may do the services'.
    permission_classes = [IsAuthenticated]
    serializer_class = TicketSerializer
    filterset_class = TicketFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Ticket]:
        filed = Attachment.objects.filter(message__isnull=True)
        tickets = (
            self.scope(tickets_visible_to(self.request.user))
            .select_related("customer", "service", "assignee")
            .prefetch_related(Prefetch("attachments", queryset=filed, to_attr="filed_attachments"))
            .order_by("-created_at", "-id")
        )
        if self.action != "list":
            tickets = tickets.prefetch_related("events")
        return tickets

    def get_serializer_class(self):
        return TicketSerializer if self.action == "list" else TicketDetailSerializer

    def _fresh(self, ticket: Ticket) -> Response:
        ticket = self.get_queryset().get(pk=ticket.pk)
        return Response(TicketDetailSerializer(ticket, context=self.get_serializer_context()).data)

    @extend_schema(
        request={media: TicketInputSerializer for media in MULTIPART_OR_JSON},
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                description="Any unique string of at most 200 characters. Sending the same "
                "key again (a retry after a timeout) files nothing new: the answer is the "
                "ticket the key filed first, with status 200 and `Idempotent-Replayed: true`.",
            )
        ],
        responses={
            201: TicketDetailSerializer,
            200: OpenApiResponse(TicketDetailSerializer, description="The key's earlier ticket."),
            400: REFUSED,
            403: FORBIDDEN,
        },
        description="A customer person files a ticket (through the portal, received now); "
        "support staff log one that came by phone or e-mail, with `customer`, `channel` "
        "and `received_at`. Attachments need multipart/form-data.",
    )
    def create(self, request: Request) -> Response:
        user = request.user
        try:
            key = clean_key(request.headers.get("Idempotency-Key", ""), "Idempotency-Key")
        except DjangoValidationError as exc:
            raise exceptions.ValidationError(exc.message_dict) from None
        earlier = earlier_filing(user, f"api:{key}") if key else None
        if earlier is not None:  # the key's owner's own ticket: visible to them
            return self._replayed(earlier)
        data = self.parse(TicketInputSerializer)
        common = {
            "service": data["service"],
            "subject": data["subject"],
            "description": data["description"],
            "severity": data["severity"],
            "attachments": data["attachments"],
        }
        if is_support_staff(user):
            ticket = services.ticket_log(
                actor=user,
                customer=data.get("customer"),
                channel=data.get("channel", ""),
                received_at=data.get("received_at"),
                requester=data.get("requester"),
                sender_email=data["sender_email"],
                idempotency_key=f"api:{key}" if key else "",
                **common,
            )
        else:
            _customer_filing(data, user)
            ticket = services.ticket_file(
                actor=user,
                channel=Channel.PORTAL,
                idempotency_key=f"api:{key}" if key else "",
                **common,
            )
        if getattr(ticket, "replayed", False):
            return self._replayed(ticket)
        response = self._fresh(ticket)
        response.status_code = status.HTTP_201_CREATED
        return response

    def _replayed(self, ticket: Ticket) -> Response:
        response = self._fresh(ticket)
        response["Idempotent-Replayed"] = "true"
        return response

    @extend_schema(
        request=TicketChangeInputSerializer,
        responses={200: TicketDetailSerializer, 400: REFUSED, 403: FORBIDDEN, 404: NOT_FOUND},
        description="Staff set any status but `new` and the assignee; a customer person "
        "may mark their ticket `resolved`, or reopen a resolved one (`open`).",
    )
    def partial_update(self, request: Request, pk: str) -> Response:
        ticket = self.get_object()
        changes = self.parse(TicketChangeInputSerializer)
        with transaction.atomic():  # both changes or neither
            if "assignee" in changes:
                ticket = services.ticket_assign(
                    ticket=ticket, assignee=changes["assignee"], actor=request.user
                )
            if "status" in changes:
                ticket = services.ticket_set_status(
                    ticket=ticket, status=changes["status"], actor=request.user
                )
        return self._fresh(ticket)

    @extend_schema(
        methods=["GET"],
        filters=False,
        responses={200: TicketMessageSerializer(many=True), 404: NOT_FOUND},
        description="The thread, oldest first. Customers never see internal notes.",
    )
    @extend_schema(
        methods=["POST"],
        filters=False,
        request={media: ReplyInputSerializer for media in MULTIPART_OR_JSON},
        responses={201: TicketMessageSerializer, 400: REFUSED, 403: FORBIDDEN, 404: NOT_FOUND},
        description="A public reply, or (support staff, `public: false`) an internal note. "
        "A closed ticket takes no replies (400). Attachments need multipart/form-data.",
    )
    @action(detail=True, methods=["get", "post"])
    def messages(self, request: Request, pk: str) -> Response:
        ticket = self.get_object()
        context = self.get_serializer_context()
        if request.method == "POST":
            data = self.parse(ReplyInputSerializer)
            message = services.ticket_reply(ticket=ticket, actor=request.user, **data)
            message = messages_visible_to(ticket, request.user).get(pk=message.pk)
            body = TicketMessageSerializer(message, context=context).data
            return Response(body, status=status.HTTP_201_CREATED)
        page = self.paginate_queryset(messages_visible_to(ticket, request.user))
        return self.get_paginated_response(
            TicketMessageSerializer(page, many=True, context=context).data
        )

    @extend_schema(
        filters=False,
        parameters=[OpenApiParameter("aid", int, OpenApiParameter.PATH, description="File id.")],
        responses={
            # Served in the type it was uploaded with (text/plain, image/png, …).
            (200, "*/*"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The file, in the type it was uploaded with."
            ),
            404: OpenApiResponse(description="No such file on a ticket you may see."),
            503: OpenApiResponse(description="The file storage cannot be reached right now."),
        },
        description="Download a file, always as an attachment and never sniffed for a type.",
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"attachments/(?P<aid>[0-9]+)",
        url_name="attachment",
        content_negotiation_class=AnyAcceptContentNegotiation,
    )
    def attachment(self, request: Request, pk: str, aid: str) -> FileResponse:
        ticket = self.get_object()
        files = ticket.attachments.filter(pk=aid)
        if not is_support_staff(request.user):
            files = files.filter(Q(message__isnull=True) | Q(message__public=True))
        attachment = files.first()
        if attachment is None:
            raise Http404
        try:
            handle = attachment.file.open("rb")
        except FileNotFoundError as exc:
            raise Http404 from exc
        except unavailable_errors() as exc:
            log.error("attachment %s: storage unreachable: %r", attachment.pk, exc)
            raise StorageUnavailable from exc
        response = FileResponse(
            handle,
            as_attachment=True,
            filename=attachment.filename,
            content_type=attachment.content_type,
        )
        # Customer-supplied bytes: never rendered by the browser as anything else.
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response

    @extend_schema(
        filters=False,
        request=ReclassifyInputSerializer,
        responses={200: TicketDetailSerializer, 400: REFUSED, 403: FORBIDDEN, 404: NOT_FOUND},
        description="Support staff give the ticket a new severity with the reason (kept in "
        "its history); its targets are measured again from receipt.",
    )
    @action(detail=True, methods=["post"])
    def reclassify(self, request: Request, pk: str) -> Response:
        ticket = self.get_object()
        data = self.parse(ReclassifyInputSerializer)
        ticket = services.ticket_reclassify(ticket=ticket, actor=request.user, **data)
        return self._fresh(ticket)

    @extend_schema(
        filters=False,
        request=None,
        responses={200: TicketDetailSerializer, 400: REFUSED, 403: FORBIDDEN, 404: NOT_FOUND},
        description="Support staff take the ticket: assigned to themselves, and a new "
        "ticket becomes open (the desk's Take button).",
    )
    @action(detail=True, methods=["post"])
    def take(self, request: Request, pk: str) -> Response:
        ticket = services.ticket_take(ticket=self.get_object(), actor=request.user)
        return self._fresh(ticket)
