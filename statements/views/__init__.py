"""Statement pages: the customer's own statements (``/portal/statements/``) and the
staff back office (``/backoffice/statements/``: filters, drafts, re-issues, runs)."""
