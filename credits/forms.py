"""Forms of the credit pages. They parse input only; the rules (a rejection needs a
reason, a decided credit cannot be decided again) live in ``credits.services``."""

from __future__ import annotations

from django import forms


class RejectForm(forms.Form):
    # Not required here: the service refuses an empty reason with its own message, so
    # the page, the API and the admin all say the same thing.
    reason = forms.CharField(
        label="Reason for rejecting",
        required=False,
        max_length=2000,
        help_text="Required. Kept in the credit's history and shown to the customer.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
