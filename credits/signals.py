"""Signals credits sends to the apps built on it.

Credits sits below statements in the layers and never imports it; statements wait for
their credits' decisions. A signal defined here and received above keeps the import
pointing down (STYLE 16) while the e-mail still follows a decision within seconds.
"""

from django.dispatch import Signal

# ``credit=<Credit>``: an account manager approved or rejected the credit. Sent inside
# the decision's transaction, so a receiver sees the decision and can defer its own
# work with ``transaction.on_commit`` (a rolled-back decision then triggers nothing).
# Receivers only queue work: the rules stay in services (STYLE 3), and the work must
# not depend on the signal alone — statements' hourly tick finds the same statements.
credit_decided = Signal()
