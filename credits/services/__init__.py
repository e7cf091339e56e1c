"""Every write to credits and the credits ledger goes through here.

Each service is atomic and validates before it writes, so refused input saves nothing.
Writers of a customer's ledger lock that customer's ``Balance`` row first (then any
invoice), which serialises them and keeps the balance equal to the sum of the entries.
"""

from credits.services.application import (
    credit_direct,
    credit_note_reverse,
    credits_apply,
    credits_apply_owed,
)
from credits.services.computing import CreditInputs, credit_compute, credit_inputs
from credits.services.decisions import credit_approve, credit_reject
from credits.services.documents import (
    CreditNotePdfUnavailable,
    credit_note_deliver,
    credit_note_pdf_bytes,
    credit_note_rerender,
    credit_notes_deliver_owed,
)
from credits.services.ledger import (
    adjustment_decide,
    adjustment_request,
    credits_expire_on_termination,
    ledger_reverse,
)

__all__ = [
    "CreditInputs",
    "credit_inputs",
    "CreditNotePdfUnavailable",
    "credit_note_deliver",
    "credit_note_pdf_bytes",
    "credit_note_rerender",
    "credit_notes_deliver_owed",
    "adjustment_decide",
    "adjustment_request",
    "credit_approve",
    "credit_direct",
    "credit_note_reverse",
    "credits_apply",
    "credits_apply_owed",
    "credit_compute",
    "credit_reject",
    "credits_expire_on_termination",
    "ledger_reverse",
]
