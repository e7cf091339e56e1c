from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser

from audit.models import AuditEntry
from audit.selectors import audit_object_types


class ActorChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: AbstractBaseUser) -> str:
        return obj.email or obj.get_username()


class AuditFilterForm(forms.Form):
    object_type = forms.ChoiceField(label="Object", required=False)
    object_id = forms.CharField(label="Object id", required=False, max_length=64)
    actor = ActorChoiceField(
        label="Who", required=False, queryset=get_user_model().objects.none(), empty_label="Anyone"
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        types = audit_object_types()
        self.fields["object_type"].choices = [("", "Any object")] + [(t, t) for t in types]
        # Only people who appear in the log: staff, a short list.
        actors = AuditEntry.objects.filter(actor__isnull=False).values("actor_id")
        self.fields["actor"].queryset = (
            get_user_model().objects.filter(pk__in=actors).order_by("email")
        )

    @property
    def active(self) -> bool:
        return self.is_valid() and any(self.cleaned_data.values())
