"""A drf-spectacular postprocessing hook that documents the webhook payloads.

The schema is OpenAPI 3.0.3, which has no ``webhooks`` section (3.1 does), so each event
goes under the ``x-webhooks`` extension, shaped as 3.1's path items: a ``post`` whose
request body is the envelope ``{type, timestamp, data}`` in components (e.g.
``WebhookCreditApproved``), ``data`` being the payload serializer the producer
registered. Listed in SPECTACULAR_SETTINGS before the enum hook, so the payloads' enums
are named like every other.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.settings import spectacular_settings
from rest_framework.views import APIView

from outbox.webhooks import registered_events

SIGNATURE_HEADERS = {
    "webhook-id": "The message id (msg_…), the same on every retry and replay.",
    "webhook-timestamp": "Seconds since the Unix epoch of this attempt.",
    "webhook-signature": "v1,<base64 HMAC-SHA256 of id.timestamp.body> (Standard Webhooks).",
}


def component_name(event: str) -> str:
    """``credit_note.issued`` → ``WebhookCreditNoteIssued``."""
    words = event.replace(".", "_").split("_")
    return "Webhook" + "".join(word.capitalize() for word in words)


def webhook_components(result: dict[str, Any], generator, request=None, public=True, **kwargs):
    auto_schema = AutoSchema()
    auto_schema.registry = generator.registry
    auto_schema.method = "POST"
    auto_schema.path = "/webhooks/"
    # The payload serializers belong to no view; a bare one gives them their context.
    view = APIView()
    view.request, view.format_kwarg, view.args, view.kwargs = None, None, (), {}
    auto_schema.view = view
    hooks: dict[str, Any] = {}
    for event, (serializer, description) in registered_events().items():
        data = auto_schema.resolve_serializer(serializer, "response")
        name = component_name(event)
        envelope = {
            "type": "object",
            "description": description,
            "required": ["type", "timestamp", "data"],
            "properties": {
                "type": {"type": "string", "enum": [event]},
                "timestamp": {
                    "type": "string",
                    "format": "date-time",
                    "description": "When the event happened (UTC).",
                },
                "data": data.ref,
            },
        }
        generator.registry.register_on_missing(
            ResolvedComponent(
                name=name, type=ResolvedComponent.SCHEMA, object=name, schema=envelope
            )
        )
        hooks[event] = {
            "post": {
                "summary": event,
                "description": description,
                "parameters": [
                    {
                        "in": "header",
                        "name": header,
                        "required": True,
                        "schema": {"type": "string"},
                        "description": text,
                    }
                    for header, text in SIGNATURE_HEADERS.items()
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}
                    },
                },
                "responses": {
                    "2XX": {"description": "Received; any other answer is retried with backoff."},
                    "410": {"description": "Gone: the endpoint is deactivated at once."},
                },
            }
        }
    # Registered after the components were built: build them again (as the enum hook does).
    result["components"] = generator.registry.build(spectacular_settings.APPEND_COMPONENTS)
    result["x-webhooks"] = hooks
    return result
