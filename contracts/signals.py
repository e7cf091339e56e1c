"""Signals the contracts app sends to the apps above it (which it may not import).

``invoice_recorded`` is sent with ``invoice=<Invoice>`` inside the recording's transaction,
once, whenever a new invoice is recorded (``invoice_create``, the API's upsert, the
``import_invoices`` command), after its charge line exists. It is not sent when an
existing invoice is posted again unchanged, nor for a payment. A receiver's exception
rolls the recording back: an invoice is recorded together with what follows from it
(credits applies the credits waiting for it).
"""

from django.dispatch import Signal

invoice_recorded = Signal()
