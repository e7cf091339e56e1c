"""API plumbing shared by every app: errors from services become 400s with field errors."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        detail = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        if "__all__" in detail:
            detail = dict(detail)
            detail["non_field_errors"] = detail.pop("__all__")
        exc = exceptions.ValidationError(detail=detail)
    return drf_exception_handler(exc, context)
