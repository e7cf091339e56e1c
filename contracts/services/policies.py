"""SLA policy versions with their bands, exclusions and severity terms."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from audit.services import audit_record, changed
from contracts.models import (
    CreditBand,
    PolicyExclusion,
    SeverityTerm,
    SLAPolicy,
    User,
)
from contracts.services._common import _clean, _decimal, _terms
from contracts.terms import Band, check_bands, check_severities


@dataclass
class SeveritySpec:
    severity: int
    name: str
    description: str
    around_the_clock: bool = False
    response: tuple[int | None, str] = (None, "none")
    resolution: tuple[int | None, str] = (None, "none")


@dataclass
class ExclusionSpec:
    category: str
    treatment: str
    clause: str


def _band_objects(bands: Iterable[Any]) -> list[Band]:
    result = []
    for b in bands:
        if isinstance(b, Band):
            result.append(b)
            continue
        lower, upper, credit = b
        result.append(
            Band(
                _decimal(lower, "bands"),
                None if upper is None else _decimal(upper, "bands"),
                _decimal(credit, "bands"),
            )
        )
    return result


@transaction.atomic
def policy_upsert(
    *,
    terms: dict[str, Any],
    bands: Iterable[Any] = (),
    exclusions: Iterable[ExclusionSpec] = (),
    severities: Iterable[SeveritySpec] = (),
    actor: User | None = None,
) -> SLAPolicy:
    """Create a policy version, or rewrite it while no contract uses it.

    ``terms`` holds the SLAPolicy field values (``code`` and ``version`` identify it).
    A version that contracts already point at is frozen: changing it needs a new version.
    A new version of a policy, or a rewritten one, is audit-logged (``actor`` None: the
    system, e.g. the catalog loader).
    """
    known = {f.name for f in SLAPolicy._meta.concrete_fields} - {"id"}
    unknown = sorted(set(terms) - known)
    if unknown:
        raise ValidationError({k: ["Unknown policy term."] for k in unknown})
    band_list = _band_objects(bands)
    exclusion_list = list(exclusions)
    severity_list = list(severities)
    policy = SLAPolicy.objects.filter(
        code=terms.get("code"), version=terms.get("version", 1)
    ).first()
    existing = policy is not None
    policy = policy or SLAPolicy()
    for key, value in terms.items():
        setattr(policy, key, value)
    _clean(policy)
    if policy.credit_rule == SLAPolicy.CreditRule.TIERED:
        band_list = _terms("bands", check_bands, band_list)
    elif band_list:
        raise ValidationError({"bands": ["Only a tiered credit rule has availability bands."]})
    _terms("severities", check_severities, [s.severity for s in severity_list])
    categories = [e.category for e in exclusion_list]
    if len(set(categories)) != len(categories):
        raise ValidationError({"exclusions": ["A category is excluded twice."]})

    stored = None
    if existing:
        incoming = policy_terms_snapshot(policy, band_list, exclusion_list, severity_list)
        stored = policy_terms_snapshot(SLAPolicy.objects.get(pk=policy.pk))
        if incoming == stored:
            return SLAPolicy.objects.get(pk=policy.pk)
        if policy.contracts.exists():
            raise ValidationError(
                {
                    "version": [
                        f"{policy.code} v{policy.version} is used by contracts; "
                        "publish its changes as a new version."
                    ]
                }
            )

    policy.save()
    policy.bands.all().delete()
    policy.exclusions.all().delete()
    policy.severities.all().delete()
    band_rows = [
        CreditBand(policy=policy, lower_pct=b.lower, upper_pct=b.upper, credit_pct=b.credit_pct)
        for b in band_list
    ]
    exclusion_rows = [
        PolicyExclusion(policy=policy, category=e.category, treatment=e.treatment, clause=e.clause)
        for e in exclusion_list
    ]
    severity_rows = [_severity_row(s, policy=policy) for s in severity_list]
    for prefix, rows in (
        ("bands", band_rows),
        ("exclusions", exclusion_rows),
        ("severities", severity_rows),
    ):
        for row in rows:
            _clean(row, exclude=["policy"], prefix=prefix)
    CreditBand.objects.bulk_create(band_rows)
    PolicyExclusion.objects.bulk_create(exclusion_rows)
    SeverityTerm.objects.bulk_create(severity_rows)
    policy_publication_record(policy=policy, before=stored, actor=actor)
    return policy


def policy_publication_record(
    *, policy: SLAPolicy, before: dict[str, Any] | None, actor: User | None
) -> None:
    """Audit a policy version just written: ``before`` is its terms as they were
    (``policy_terms_snapshot``) when it was rewritten, None when it is new. A new version
    is compared with the policy's version before it, so the entry says what the new
    version changes ("policy.publish"); the first version of a new policy changes no
    one's terms and writes no entry. A rewrite records what it changed ("policy.change")."""
    action = "policy.change"
    if before is None:
        others = SLAPolicy.objects.filter(code=policy.code).exclude(pk=policy.pk)
        previous = (
            others.filter(version__lt=policy.version).order_by("-version").first()
            or others.order_by("version").first()
        )
        if previous is None:
            return
        action, before = "policy.publish", policy_terms_snapshot(previous)
    differences = changed(before, policy_terms_snapshot(policy))
    if differences:
        audit_record(
            actor=actor,
            action=action,
            obj=policy,
            changes=differences,
            label=f"SLA policy {policy.code} v{policy.version}",
        )


def _severity_row(spec: SeveritySpec, **owner: Any) -> SeverityTerm:
    return SeverityTerm(
        severity=spec.severity,
        name=spec.name,
        description=spec.description,
        around_the_clock=spec.around_the_clock,
        response_value=spec.response[0],
        response_unit=spec.response[1],
        resolution_value=spec.resolution[0],
        resolution_unit=spec.resolution[1],
        **owner,
    )


def _plain(field: Any, value: Any) -> Any:
    """A field value as a JSON-ready, canonical value (Decimals at the field's scale)."""
    value = field.to_python(value)
    if value is None or isinstance(value, (bool, int, str, list)):
        return value
    if isinstance(value, Decimal):
        return str(value.quantize(Decimal(1).scaleb(-field.decimal_places)))
    return str(value)


def _pct(value: Any, places: int = 3) -> str | None:
    return None if value is None else str(Decimal(value).quantize(Decimal(1).scaleb(-places)))


def policy_terms_snapshot(
    policy: SLAPolicy,
    bands: list[Band] | None = None,
    exclusions: list[ExclusionSpec] | None = None,
    severities: list[SeveritySpec] | None = None,
) -> dict[str, Any]:
    """Every term of a policy as plain JSON-ready values (what a statement copies, and
    what the loader compares to tell an unchanged policy from a changed one)."""
    data: dict[str, Any] = {}
    for f in SLAPolicy._meta.concrete_fields:
        if f.name != "id":
            data[f.name] = _plain(f, getattr(policy, f.attname))
    if bands is None:
        bands = [Band(b.lower_pct, b.upper_pct, b.credit_pct) for b in policy.bands.all()]
    data["bands"] = sorted([_pct(b.lower), _pct(b.upper), _pct(b.credit_pct, 2)] for b in bands)
    if exclusions is None:
        exclusions = [
            ExclusionSpec(e.category, e.treatment, e.clause) for e in policy.exclusions.all()
        ]
    data["exclusions"] = sorted([e.category, e.treatment, e.clause] for e in exclusions)
    if severities is None:
        severities = [
            SeveritySpec(
                s.severity,
                s.name,
                s.description,
                s.around_the_clock,
                (s.response_value, s.response_unit),
                (s.resolution_value, s.resolution_unit),
            )
            for s in policy.severities.all()
        ]
    data["severities"] = sorted(
        [
            s.severity,
            s.name,
            s.description,
            s.around_the_clock,
            list(s.response),
            list(s.resolution),
        ]
        for s in severities
    )
    return data
