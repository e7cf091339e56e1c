"""Every write to statements goes through here.

* ``statement_generate`` — a month's statement (issued; or a staff draft), idempotent;
* ``statement_reissue`` — revision n + 1 of an issued month, the previous superseded;
* ``statement_render`` / ``statement_send`` — store the PDF once, e-mail it once;
* ``statements_deliver_owed`` — the tick's sweep of statements still owed either;
* ``statement_pdf_restore`` — staff re-render an altered or missing stored PDF;
* ``statements_plan``, ``statement_run_item_process``, ``statement_run_retry``,
  ``statements_tick``, ``statement_reissue_requested`` — the monthly run.
"""

from statements.services.delivery import (
    statement_render,
    statement_send,
    statements_deliver_owed,
)
from statements.services.generate import statement_generate, statement_number, statement_reissue
from statements.services.restore import may_restore, statement_pdf_restore
from statements.services.runs import (
    contracts_owed,
    statement_reissue_requested,
    statement_run_item_process,
    statement_run_retry,
    statements_plan,
    statements_tick,
)

__all__ = [
    "contracts_owed",
    "may_restore",
    "statement_generate",
    "statement_number",
    "statement_pdf_restore",
    "statement_reissue",
    "statement_reissue_requested",
    "statement_render",
    "statement_run_item_process",
    "statement_run_retry",
    "statement_send",
    "statements_deliver_owed",
    "statements_plan",
    "statements_tick",
]
