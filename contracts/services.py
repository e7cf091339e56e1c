"""Every write to customers, calendars, policies, contracts and invoices goes through here.

Each function validates the whole object graph first (field validators, database
constraints as Django can check them, and the cross-row rules in
``contracts.terms`` / ``contracts.calendars``) and then writes atomically, so bad
input never leaves a half-written record.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import transaction

from contracts import calendars, roles
from contracts.models import (
    Calendar,
    CalendarHoliday,
    Contract,
    ContractLine,
    CreditBand,
    Customer,
    Invoice,
    OpeningInterval,
    PolicyExclusion,
    Service,
    SeverityTerm,
    SLAPolicy,
    User,
)
from contracts.terms import Band, TermsError, check_bands, check_severities, parse_clock

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def roles_sync(*, using: str = "default") -> None:
    """Create the staff groups and give each its permissions (idempotent)."""
    for role in roles.STAFF_ROLES:
        group, _ = Group.objects.using(using).get_or_create(name=role)
        wanted = roles.GROUP_PERMISSIONS.get(role, [])
        perms = Permission.objects.using(using).all()
        if wanted != ["*"]:
            pairs = [w.split(".", 1) for w in wanted]
            keep = {(app, code) for app, code in pairs}
            perms = [
                p
                for p in perms.select_related("content_type")
                if (p.content_type.app_label, p.codename) in keep
            ]
        group.permissions.set(perms)


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


# ---------------------------------------------------------------- customers & people


@transaction.atomic
def customer_create(
    *,
    name: str,
    billing_emails: str | Iterable[str],
    time_zone: str = "UTC",
    account_managers: Iterable[User] = (),
) -> Customer:
    if not isinstance(billing_emails, str):
        billing_emails = ", ".join(billing_emails)
    customer = Customer(name=name, billing_emails=billing_emails, time_zone=time_zone)
    _clean(customer)
    managers = list(account_managers)
    _check_account_managers(managers)
    customer.save()
    customer.account_managers.set(managers)
    return customer


@transaction.atomic
def customer_update(*, customer: Customer, **changes: Any) -> Customer:
    managers = changes.pop("account_managers", None)
    if "billing_emails" in changes and not isinstance(changes["billing_emails"], str):
        changes["billing_emails"] = ", ".join(changes["billing_emails"])
    for key, value in changes.items():
        setattr(customer, key, value)
    _clean(customer)
    customer.save()
    if managers is not None:
        managers = list(managers)
        _check_account_managers(managers)
        customer.account_managers.set(managers)
    return customer


def _check_account_managers(managers: Sequence[User]) -> None:
    for user in managers:
        if not roles.has_role(user, roles.ACCOUNT_MANAGER):
            raise ValidationError(
                {"account_managers": [f"{user.get_username()} is not an account manager."]}
            )


@transaction.atomic
def user_create_staff(
    *,
    username: str,
    email: str,
    password: str | None,
    roles_: Iterable[str],
    first_name: str = "",
    last_name: str = "",
) -> User:
    names = list(roles_)
    unknown = [r for r in names if r not in roles.STAFF_ROLES]
    if unknown:
        raise ValidationError({"roles": [f"Unknown staff role: {', '.join(unknown)}."]})
    user = User(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        is_staff=True,
        is_superuser=roles.ADMIN in names,
    )
    _clean(user, exclude=["password"])
    user.set_password(password) if password else user.set_unusable_password()
    user.save()
    user.groups.set(Group.objects.filter(name__in=names))
    return user


@transaction.atomic
def customer_user_create(
    *,
    customer: Customer,
    username: str,
    email: str,
    role: str = User.CustomerRole.USER,
    password: str | None = None,
    first_name: str = "",
    last_name: str = "",
    time_zone: str | None = None,
    actor: User | None = None,
) -> User:
    """Add a person to a customer organisation. ``actor`` (when given) must be that
    customer's admin or staff."""
    if actor is not None:
        _require_customer_admin(actor, customer)
    if not email:
        raise ValidationError({"email": ["Give the person's e-mail address."]})
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": [f"{email} already has an account."]})
    user = User(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        customer=customer,
        customer_role=role,
        time_zone=time_zone or customer.time_zone,
    )
    _clean(user, exclude=["password"])
    user.set_password(password) if password else user.set_unusable_password()
    user.save()
    return user


@transaction.atomic
def customer_user_update(
    *, actor: User, user: User, role: str | None = None, is_active: bool | None = None
) -> User:
    _require_customer_admin(actor, user.customer)
    if user.pk == actor.pk and (is_active is False or role == User.CustomerRole.USER):
        raise ValidationError("You cannot deactivate or demote yourself.")
    if role is not None:
        user.customer_role = role
    if is_active is not None:
        user.is_active = is_active
    _clean(user, exclude=["password"])
    user.save(update_fields=["customer_role", "is_active"])
    return user


def _require_customer_admin(actor: User, customer: Customer | None) -> None:
    allowed = roles.has_role(actor, roles.ADMIN) or (
        actor.is_customer_admin and customer is not None and actor.customer_id == customer.pk
    )
    if not allowed:
        raise ValidationError("Only an admin of this organisation can manage its people.")


# ---------------------------------------------------------------- services & calendars


@transaction.atomic
def service_create(
    *, code: str, name: str, critical: bool = True, description: str = ""
) -> Service:
    service = Service(code=code, name=name, critical=critical, description=description)
    _clean(service)
    service.save()
    return service


@dataclass
class CalendarSpec:
    code: str
    name: str
    time_zone: str
    hours: dict[str, list[tuple[str, str]]]
    holiday_country: str = ""
    holiday_subdivision: str = ""
    custom_holidays: list[tuple[date, str]] = field(default_factory=list)


def _interval_rows(hours: dict[str, Any]) -> list[tuple[int, int, int]]:
    rows = []
    for day, intervals in hours.items():
        if day not in WEEKDAYS:
            raise ValidationError({"hours": [f"{day!r} is not a weekday (mon … sun)."]})
        for start, end in intervals:
            rows.append(
                (
                    WEEKDAYS.index(day),
                    _terms("hours", parse_clock, start),
                    _terms("hours", parse_clock, end),
                )
            )
    return rows


@transaction.atomic
def calendar_upsert(spec: CalendarSpec) -> Calendar:
    """Create or replace a calendar with its opening intervals and custom holidays."""
    # The pure engine is the one authority on what a valid week looks like
    # (reversed or overlapping intervals, unknown zone): ask it first.
    _terms("hours", calendars.parse_hours, spec.hours)
    rows = _interval_rows(spec.hours)
    calendar = Calendar.objects.filter(code=spec.code).first() or Calendar(code=spec.code)
    calendar.name = spec.name
    calendar.time_zone = spec.time_zone
    calendar.holiday_country = spec.holiday_country
    calendar.holiday_subdivision = spec.holiday_subdivision
    _clean(calendar)
    if spec.holiday_country:
        _terms(
            "holiday_subdivision",
            _check_subdivision,
            spec.holiday_country,
            spec.holiday_subdivision,
        )
    if calendar.pk and calendar_snapshot(calendar) == {
        "name": spec.name,
        "time_zone": spec.time_zone,
        "holiday_country": spec.holiday_country,
        "holiday_subdivision": spec.holiday_subdivision,
        "intervals": sorted(rows),
        "custom_holidays": sorted((d.isoformat(), n) for d, n in spec.custom_holidays),
    }:
        return calendar
    calendar.save()
    calendar.intervals.all().delete()
    OpeningInterval.objects.bulk_create(
        OpeningInterval(calendar=calendar, weekday=d, start_minute=s, end_minute=e)
        for d, s, e in rows
    )
    calendar.custom_holidays.all().delete()
    CalendarHoliday.objects.bulk_create(
        CalendarHoliday(calendar=calendar, date=day, name=name)
        for day, name in spec.custom_holidays
    )
    return calendar


def calendar_snapshot(calendar: Calendar) -> dict[str, Any]:
    return {
        "name": calendar.name,
        "time_zone": calendar.time_zone,
        "holiday_country": calendar.holiday_country,
        "holiday_subdivision": calendar.holiday_subdivision,
        "intervals": sorted(
            calendar.intervals.values_list("weekday", "start_minute", "end_minute")
        ),
        "custom_holidays": sorted(
            (d.isoformat(), n) for d, n in calendar.custom_holidays.values_list("date", "name")
        ),
    }


def _check_subdivision(country: str, subdivision: str) -> None:
    import holidays

    if subdivision:
        known = holidays.list_supported_countries().get(country, [])
        if subdivision not in known:
            raise TermsError(f"{subdivision} is not a subdivision of {country}.")


# ---------------------------------------------------------------- policies


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
) -> SLAPolicy:
    """Create a policy version, or rewrite it while no contract uses it.

    ``terms`` holds the SLAPolicy field values (``code`` and ``version`` identify it).
    A version that contracts already point at is frozen: changing it needs a new version.
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
    return policy


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
    if value is None or isinstance(value, (bool, int, str)):
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


# ---------------------------------------------------------------- contracts & invoices


@transaction.atomic
def contract_create(
    *,
    customer: Customer,
    policy: SLAPolicy,
    reference: str,
    start_date: date,
    currency: str,
    lines: Iterable[tuple[Service, Any]],
    end_date: date | None = None,
    support_calendar: Calendar | None = None,
    severities: Iterable[SeveritySpec] = (),
) -> Contract:
    contract = Contract(
        customer=customer,
        policy=policy,
        reference=reference,
        start_date=start_date,
        end_date=end_date,
        currency=currency,
        support_calendar=support_calendar,
    )
    # Named-field checks first: the constraint-level message would not say which field.
    if end_date is not None and start_date is not None and end_date < start_date:
        raise ValidationError({"end_date": ["The contract cannot end before it starts."]})
    _clean(contract)
    line_list = [(service, _decimal(fee, "lines")) for service, fee in lines]
    if not line_list:
        raise ValidationError({"lines": ["A contract needs at least one service line."]})
    services = [s.pk for s, _ in line_list]
    if len(set(services)) != len(services):
        raise ValidationError({"lines": ["A service appears on two lines."]})
    severity_list = list(severities)
    _terms("severities", check_severities, [s.severity for s in severity_list])
    contract.save()
    rows = [ContractLine(contract=contract, service=s, monthly_fee=fee) for s, fee in line_list]
    for row in rows:
        if row.monthly_fee < 0:
            raise ValidationError({"lines": [f"The fee for {row.service} cannot be negative."]})
        _clean(row, exclude=["contract"], prefix="lines")
    ContractLine.objects.bulk_create(rows)
    severity_rows = [_severity_row(s, contract=contract) for s in severity_list]
    for row in severity_rows:
        _clean(row, exclude=["contract"], prefix="severities")
    SeverityTerm.objects.bulk_create(severity_rows)
    return contract


@transaction.atomic
def invoice_create(
    *,
    contract: Contract,
    number: str,
    period_start: date,
    period_end: date,
    amount: Any,
    issued_on: date,
    due_on: date,
    paid_at=None,
) -> Invoice:
    invoice = Invoice(
        customer=contract.customer,
        contract=contract,
        number=number,
        period_start=period_start,
        period_end=period_end,
        amount=_decimal(amount, "amount"),
        currency=contract.currency,
        issued_on=issued_on,
        due_on=due_on,
        paid_at=paid_at,
    )
    if period_start and period_end and period_end < period_start:
        raise ValidationError({"period_end": ["The period cannot end before it starts."]})
    if issued_on and due_on and due_on < issued_on:
        raise ValidationError({"due_on": ["An invoice cannot fall due before it is issued."]})
    if invoice.amount < 0:
        raise ValidationError({"amount": ["An invoice amount cannot be negative."]})
    _clean(invoice)
    invoice.save()
    return invoice
