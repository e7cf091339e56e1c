"""Forms of the portal pages. They parse input only; the rules live in the services."""

from __future__ import annotations

from collections.abc import Iterator

from django import forms
from django.contrib.auth.forms import PasswordResetForm
from django.core.exceptions import ValidationError

from contracts.models import User


class PersonAddForm(forms.Form):
    first_name = forms.CharField(label="First name", max_length=150)
    last_name = forms.CharField(label="Last name", max_length=150)
    email = forms.EmailField(
        label="E-mail address",
        max_length=150,  # it doubles as the username, which is at most 150 characters
        help_text="They sign in with this address and receive a link to choose a password.",
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    role = forms.ChoiceField(
        label="Role",
        choices=User.CustomerRole.choices,
        initial=User.CustomerRole.USER,
        help_text="A customer admin can also add people and change their roles.",
    )

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()


class PersonRoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=User.CustomerRole.choices)


class InvitationForm(PasswordResetForm):
    """Sends a set-password link to a person who has no password yet.

    New people are created with an unusable password (nobody knows a secret for
    them), and Django's reset form deliberately skips such users; an invitation
    is exactly the case where they must be reached.
    """

    def get_users(self, email: str) -> Iterator[User]:
        yield from User.objects.filter(email__iexact=email, is_active=True)


def add_service_errors(
    form: forms.Form, error: ValidationError, renamed: dict[str, str] | None = None
) -> None:
    """Show a service's ValidationError on ``form``: on the matching field where there is
    one (``renamed`` maps service field names to form field names), else above the form."""
    renamed = renamed or {}
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, messages in error.message_dict.items():
        field = renamed.get(name, name)
        form.add_error(field if field in form.fields else None, messages)
