"""Forms of the portal pages. They parse input only; the rules live in the services."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django import forms
from django.contrib.auth.forms import PasswordResetForm
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string

from contracts.models import User
from outbox.services import outbox_enqueue


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

    Password-reset and invitation e-mails go through the outbox like every other e-mail:
    queued in the request, sent by a task with retries (an SMTP outage loses none), and
    the response never waits on the mail server, so its time does not tell whether the
    address has an account (an unknown address queues nothing; the page says the same).
    """

    def get_users(self, email: str) -> Iterator[User]:
        yield from User.objects.filter(email__iexact=email, is_active=True)

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        subject = "".join(render_to_string(subject_template_name, context).splitlines())
        html = (
            render_to_string(html_email_template_name, context) if html_email_template_name else ""
        )
        outbox_enqueue(
            to=to_email,
            subject=subject,
            body=render_to_string(email_template_name, context),
            html_body=html,
            # One e-mail per link: the token changes with the password and the login.
            dedupe_key=f"set-password:{context['uid']}:{context['token']}",
        )


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
