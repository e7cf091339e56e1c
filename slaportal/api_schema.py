"""The OpenAPI schema's settings (drf-spectacular), kept apart from slaportal/settings.py:
titles, stable enum names, the path prefix operation ids are named from, and the hooks
that add the webhook payloads."""

SPECTACULAR_SETTINGS = {
    "TITLE": "SLA Portal API",
    "DESCRIPTION": "Contracts, outages, tickets, statements and service credits.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1/",  # ids from the path after it (status JSON is in too)
    # Stable enum names, so later apps adding a "category" or "scope" field cannot clash.
    "ENUM_NAME_OVERRIDES": {
        "DowntimeCategoryEnum": "contracts.models.DowntimeCategory",
        "OutageScopeEnum": "outages.models.Outage.Scope",
        "OutageImpactEnum": "outages.models.Outage.Impact",
        "OutageSourceEnum": "outages.models.Outage.Source",
        "OutageStageEnum": "outages.models.Stage",
        "CreditStatusEnum": "credits.models.Credit.Status",
        "LedgerEntryKindEnum": "credits.models.LedgerEntry.Kind",
        "InvoiceLineKindEnum": "contracts.models.InvoiceLine.Kind",
        "InvoiceKindEnum": "contracts.models.policies.InvoiceKind",
        "TicketStatusEnum": "tickets.models.Ticket.Status",
        "TicketChannelEnum": "tickets.models.Channel",
        "TicketEventKindEnum": "tickets.models.TicketEvent.Kind",
        "TicketClockStateEnum": "tickets.serializers.CLOCK_STATES",
        # Named here since the webhook payloads (x-webhooks) add more fields called "kind".
        "CreditNoteKindEnum": "credits.models.CreditNote.Kind",
        "PdfUnavailableCodeEnum": ["altered", "missing"],
    },
    "POSTPROCESSING_HOOKS": [
        "outbox.openapi.webhook_components",
        "drf_spectacular.hooks.postprocess_schema_enums",
    ],
}
