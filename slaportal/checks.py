"""System checks of the project's own settings (``manage.py check --deploy``)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def two_factor_is_on(app_configs, **kwargs) -> list[Warning]:
    if getattr(settings, "REQUIRE_TWO_FACTOR", True):
        return []
    return [
        Warning(
            "REQUIRE_TWO_FACTOR is off: account managers and administrators sign in "
            "with a password alone.",
            hint="Unset REQUIRE_TWO_FACTOR (it is on by default); it is for the demo.",
            id="slaportal.W001",
        )
    ]
