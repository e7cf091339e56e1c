"""Forms of the credit pages. They parse input only; the rules (a rejection needs a
reason, a decided credit cannot be decided again) live in ``credits.services``."""

from __future__ import annotations

from django import forms

from contracts.models import Invoice


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


class DirectForm(forms.Form):
    """Which kind of invoice a credit goes to, among the kinds its policy allows."""

    invoice_kind = forms.ChoiceField(label="Apply to the next", choices=())

    def __init__(self, *args, kinds: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        labels = dict(Invoice.Kind.choices)
        self.fields["invoice_kind"].choices = [(k, f"{labels[k].lower()} invoice") for k in kinds]
