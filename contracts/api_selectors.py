"""Read-only queries behind the contracts API (the portal's live in contracts.selectors)."""

from __future__ import annotations

from django.db.models import QuerySet

from contracts.models import SLAPolicy


def policy_version(
    *, code: str, version: int | None = None, queryset: QuerySet[SLAPolicy] | None = None
) -> SLAPolicy | None:
    """Version ``version`` of policy ``code``, or its latest version when none is given."""
    policies = (SLAPolicy.objects.all() if queryset is None else queryset).filter(code=code)
    if version is not None:
        policies = policies.filter(version=version)
    return policies.order_by("-version").first()
