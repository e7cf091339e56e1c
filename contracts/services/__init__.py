"""Every write to customers, calendars, policies, contracts and invoices goes through here.

Each function validates the whole object graph first (field validators, database
constraints as Django can check them, and the cross-row rules in
``contracts.terms`` / ``contracts.calendars``) and then writes atomically, so bad
input never leaves a half-written record.
"""

from contracts.services.agreements import CONTRACT_CHANGEABLE, contract_change, contract_create
from contracts.services.invoices import (
    CONTENT,
    InvoiceConflict,
    Recorded,
    invoice_build,
    invoice_create,
    invoice_differences,
    invoice_pay,
    invoice_record,
    invoices_import,
    require_billing_staff,
)
from contracts.services.organisations import (
    customer_create,
    customer_person_add,
    customer_update,
    customer_user_create,
    customer_user_update,
    roles_sync,
    service_create,
    user_create_staff,
)
from contracts.services.policies import (
    ExclusionSpec,
    SeveritySpec,
    policy_publication_record,
    policy_terms_snapshot,
    policy_upsert,
)
from contracts.services.profiles import gets_desk_alerts, profile_update
from contracts.services.schedules import CalendarSpec, calendar_snapshot, calendar_upsert

__all__ = [
    "gets_desk_alerts",
    "profile_update",
    "CONTENT",
    "CONTRACT_CHANGEABLE",
    "CalendarSpec",
    "ExclusionSpec",
    "SeveritySpec",
    "calendar_snapshot",
    "calendar_upsert",
    "contract_change",
    "contract_create",
    "customer_create",
    "customer_update",
    "customer_person_add",
    "customer_user_create",
    "customer_user_update",
    "InvoiceConflict",
    "Recorded",
    "invoice_build",
    "invoice_create",
    "invoice_differences",
    "invoice_pay",
    "invoice_record",
    "invoices_import",
    "policy_publication_record",
    "policy_terms_snapshot",
    "policy_upsert",
    "require_billing_staff",
    "roles_sync",
    "service_create",
    "user_create_staff",
]
