"""Validation helpers shared by the services."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError

from contracts.terms import TermsError


def _clean(instance: Any, *, exclude: Sequence[str] = (), prefix: str = "") -> None:
    """Run model validation; re-key errors under ``prefix`` for nested objects."""
    try:
        instance.full_clean(exclude=list(exclude), validate_unique=True)
    except ValidationError as exc:
        if not prefix:
            raise
        raise ValidationError(
            {f"{prefix}.{k}" if k != "__all__" else prefix: v for k, v in exc.message_dict.items()}
        ) from None


def _terms(field_name: str, func, *args):
    try:
        return func(*args)
    except (TermsError, ValueError) as exc:
        raise ValidationError({field_name: [str(exc)]}) from None


def _decimal(value: Any, field_name: str) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError({field_name: [f"{value!r} is not a number."]}) from None
