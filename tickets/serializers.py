"""Shapes of the tickets API.

Read serializers render what the tenant-scoped querysets of ``tickets.api`` hand them
(internal notes never reach a customer's thread: ``messages_visible_to`` leaves them
out before anything is rendered). Input serializers parse types and shapes only; the
rules about the values (a subject, a severity of 1–4, a time received not in the future,
who may do what, the attachment limits) live once in ``tickets.services`` and reach the
client as 400s naming the field, or 403s.
"""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import empty
from rest_framework.reverse import reverse

from contracts.models import Customer, Service, User
from outages.serializers import AwareDateTimeField
from tickets.clocks import STATE_LABELS
from tickets.models import Attachment, Channel, Ticket, TicketEvent, TicketMessage
from tickets.selectors import is_support_staff, ticket_states

# The clock states a ticket shows (on track, at risk, breached, met, paused, no target).
CLOCK_STATES = list(STATE_LABELS.items())


class AttachmentSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="Where to download the file.")

    class Meta:
        model = Attachment
        fields = ["id", "filename", "content_type", "size", "created_at", "url"]
        read_only_fields = fields

    def get_url(self, attachment: Attachment) -> str:
        return reverse(
            "ticket-attachment",
            kwargs={"pk": attachment.ticket_id, "aid": attachment.pk},
            request=self.context.get("request"),
        )


class TicketEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = TicketEvent
        fields = [
            "kind",
            "actor",
            "created_at",
            "from_status",
            "to_status",
            "from_severity",
            "to_severity",
            "assignee",
            "reason",
        ]
        read_only_fields = fields


class TicketSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(read_only=True, help_text="T-000123, as e-mails quote it.")
    sender_email = serializers.CharField(
        read_only=True, help_text="The address an e-mailed ticket came from; empty otherwise."
    )
    response_state = serializers.SerializerMethodField()
    resolution_state = serializers.SerializerMethodField()
    attachments = serializers.SerializerMethodField(
        help_text="Files filed with the ticket (those sent with replies are on the messages)."
    )

    class Meta:
        model = Ticket
        fields = [
            "id",
            "reference",
            "customer",
            "contract",
            "service",
            "subject",
            "description",
            "severity",
            "status",
            "channel",
            "received_at",
            "created_at",
            "requester",
            "sender_email",
            "unregistered_sender",
            "assignee",
            "response_due_at",
            "resolution_due_at",
            "responded_at",
            "resolved_at",
            "closed_at",
            "response_breached",
            "resolution_breached",
            "response_state",
            "resolution_state",
            "attachments",
        ]
        read_only_fields = fields

    def _states(self, ticket: Ticket):
        # Both states from one reading of the clock, computed once per ticket.
        cached = getattr(ticket, "_api_states", None)
        if cached is None:
            cached = ticket._api_states = ticket_states(ticket, timezone.now())
        return cached

    @extend_schema_field(serializers.ChoiceField(choices=CLOCK_STATES))
    def get_response_state(self, ticket: Ticket) -> str:
        return self._states(ticket).response

    @extend_schema_field(serializers.ChoiceField(choices=CLOCK_STATES))
    def get_resolution_state(self, ticket: Ticket) -> str:
        return self._states(ticket).resolution

    @extend_schema_field(AttachmentSerializer(many=True))
    def get_attachments(self, ticket: Ticket) -> list[dict]:
        files = getattr(ticket, "filed_attachments", None)
        if files is None:
            files = ticket.attachments.filter(message__isnull=True)
        return AttachmentSerializer(files, many=True, context=self.context).data


class TicketDetailSerializer(TicketSerializer):
    history = TicketEventSerializer(
        source="events",
        many=True,
        read_only=True,
        help_text="What changed, who did it and why (reclassifications keep their reason).",
    )

    class Meta(TicketSerializer.Meta):
        fields = [*TicketSerializer.Meta.fields, "history"]
        read_only_fields = fields


class TicketMessageSerializer(serializers.ModelSerializer):
    author_name = serializers.SerializerMethodField()
    author_email = serializers.CharField(
        read_only=True, help_text="The sender's address for an e-mailed message; empty otherwise."
    )
    attachments = AttachmentSerializer(many=True, read_only=True)
    original_text = serializers.SerializerMethodField(
        help_text="Support staff only, empty for anyone else: the whole e-mail an e-mailed "
        "reply was cut from, the thread it quoted included; empty when nothing was cut."
    )

    class Meta:
        model = TicketMessage
        fields = [
            "id",
            "ticket",
            "author",
            "author_name",
            "author_email",
            "from_staff",
            "public",
            "channel",
            "body",
            "original_text",
            "created_at",
            "attachments",
        ]
        read_only_fields = fields

    def get_author_name(self, message: TicketMessage) -> str:
        if message.author is None:
            return message.author_email
        return message.author.get_full_name() or message.author.username

    def get_original_text(self, message: TicketMessage) -> str:
        # Always present, so that the schema holds for every caller; filled for staff only.
        request = self.context.get("request")
        staff = request is not None and is_support_staff(request.user)
        return message.original_text if staff else ""


class FilesField(serializers.ListField):
    """Files in a multipart body (the same field name repeated). Empty files are let
    through so the services' attachment rules give the one message for them."""

    child = serializers.FileField(allow_empty_file=True, use_url=False)

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("default", list)
        kwargs.setdefault(
            "help_text", "Files (multipart/form-data), each within the size limit and types."
        )
        super().__init__(**kwargs)


class TicketInputSerializer(serializers.Serializer):
    """File a ticket (a customer person: through the portal, received now) or log one
    (support staff: a phone call or e-mail, with the customer and the time received)."""

    subject = serializers.CharField(allow_blank=True, trim_whitespace=False)
    description = serializers.CharField(allow_blank=True, trim_whitespace=False)
    severity = serializers.IntegerField(help_text="1 (most urgent) to 4.")
    service = serializers.PrimaryKeyRelatedField(
        queryset=Service.objects.all(), required=False, allow_null=True, default=None
    )
    channel = serializers.ChoiceField(
        choices=Channel.choices,
        required=False,
        help_text="Staff: `phone` or `email`. Customers: `portal` (the default).",
    )
    received_at = AwareDateTimeField(
        required=False,
        allow_null=True,
        help_text="Staff: when the call or e-mail came in (not in the future). Customers "
        "leave it out: their ticket is received now.",
    )
    customer = serializers.PrimaryKeyRelatedField(
        queryset=Customer.objects.all(),
        required=False,
        allow_null=True,
        help_text="Staff: the customer the ticket is for.",
    )
    requester = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(customer__isnull=False),
        required=False,
        allow_null=True,
        help_text="Staff: the customer person it is for (they get the e-mails).",
    )
    sender_email = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Staff: where to write when there is no requester.",
    )
    attachments = FilesField()


class TicketChangeInputSerializer(serializers.Serializer):
    """Change a ticket's status or assignee (PATCH); severity changes go through
    ``reclassify/`` with a reason."""

    status = serializers.ChoiceField(choices=Ticket.Status.choices, required=False)
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(customer__isnull=True),
        required=False,
        allow_null=True,
        help_text="Staff: the agent to give it to (null: back to everyone).",
    )

    def validate(self, attrs: dict) -> dict:
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(
                {name: ["Only status and assignee change here."] for name in unknown}
            )
        if not attrs:
            raise serializers.ValidationError("Give a status or an assignee.")
        return attrs


class DefaultWhenOmittedBooleanField(serializers.BooleanField):
    """DRF reads a boolean left out of a form as False (an unticked checkbox); a script's
    multipart reply without ``public`` is public, as it is in JSON."""

    default_empty_html = empty


class ReplyInputSerializer(serializers.Serializer):
    body = serializers.CharField(allow_blank=True, trim_whitespace=False)
    public = DefaultWhenOmittedBooleanField(
        default=True, help_text="False: an internal note (support staff only)."
    )
    attachments = FilesField()


class ReclassifyInputSerializer(serializers.Serializer):
    severity = serializers.IntegerField(help_text="The new severity, 1 to 4.")
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Why (required; kept in the ticket's history).",
    )
