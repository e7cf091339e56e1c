"""The SLA catalog expresses both seed documents as data.

``CLAUSES`` walks the documents line by line: each clause names the catalog field
that expresses it and the value it must hold. Lines that carry no term (headings,
table headers, template placeholders, marketing copy) are listed in ``NOT_TERMS``
with the reason. ``test_every_line_of_both_documents_is_accounted_for`` proves the
two lists together cover every line, so a clause cannot be silently skipped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from contracts.catalog import DEFAULT_CATALOG
from contracts.models import Calendar, CreditBand, PolicyExclusion, SeverityTerm, SLAPolicy

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
TIERED_DOC = "004_46be3a448a7befe3.txt"
MULTIPLIER_DOC = "000_7aeefd3d59d167ff.txt"
TIERS = ("heretto-ccms", "heretto-enterprise", "deploy-essential", "deploy-scale")
BALTO = ("balto-uptime",)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
EVERY_DAY = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Contains:
    """The field's text contains this phrase."""

    text: str


@dataclass(frozen=True)
class Clause:
    doc: str
    excerpt: str  # verbatim from the document
    policies: tuple[str, ...]
    path: str  # field path on the SLAPolicy
    expected: Any


def _bullet(line: str) -> str:
    return line.strip().lstrip("•–").strip()


T, M = TIERED_DOC, MULTIPLIER_DOC
D = Decimal
CLAUSES: list[Clause] = [
    # ----- 004: the tiered SLA -------------------------------------------------------
    Clause(T, "Effective: January 1, 2024", TIERS, "effective_from", date(2024, 1, 1)),
    Clause(T, "with a 30-day notice period", TIERS, "change_notice_days", 30),
    Clause(T, "sets forth the support service levels for each applicable Subscription Tier",
           TIERS, "severities.levels", [1, 2, 3, 4]),
    Clause(T, "Excused Downtime means", TIERS, "exclusions[customer_authorized].treatment",
           "removed"),
    Clause(T, "Impact means the extent of deviation", TIERS, "severities[2].description",
           Contains("serious business Impact")),
    Clause(T, "Issue means your communication to us via", TIERS, "support_channels",
           Contains("support@heretto.com")),
    Clause(T, "Required Monthly Availability means", TIERS, "denominator_basis",
           "calendar_minutes"),
    Clause(T, "Required Monthly Availability means", TIERS,
           "exclusions[scheduled_maintenance].treatment", "removed"),
    Clause(T, "Scheduled Downtime means", TIERS, "exclusions[scheduled_maintenance].clause",
           Contains("scheduled maintenance and repair")),
    Clause(T, "Subscription Tier means the specific Service selected", TIERS, "credit_rule",
           "tiered"),
    Clause(T, "as part of the selected Subscription Tier of Service", TIERS,
           "support_terms_in_order_form", False),
    Clause(T, "between the hours of 3am ET – 8pm ET Monday through Friday", TIERS,
           "support_calendar.hours", {d: ["03:00-20:00"] for d in WEEKDAYS}),
    Clause(T, "between the hours of 3am ET – 8pm ET Monday through Friday", TIERS,
           "support_calendar.time_zone", "America/New_York"),
    Clause(T, "Support is provided in the English language", TIERS, "support_language",
           "English"),
    Clause(T, "24 hours per day 7 days a week for Severity Level 1 Issues", TIERS,
           "severities[1].around_the_clock", True),
    Clause(T, "Support for Severity 1 issues during National Holidays", TIERS,
           "off_hours_severity1_channel", Contains("1-877-492-2960")),
    Clause(T, "Support for Severity 1 issues during National Holidays", TIERS,
           "support_calendar.holiday_country", "US"),
    Clause(T, "You may create a Support Ticket at https://support.heretto.com", TIERS,
           "support_channels", Contains("https://support.heretto.com")),
    Clause(T, "you must create a Support Request for Severity 1, Severity 2, and Severity 3",
           TIERS, "support_notes", Contains("Severity 1, 2 and 3 issues require a Support Request")),
    Clause(T, "Submitting a Support Request at the Heretto Support website", TIERS,
           "support_channels", Contains("support.heretto.com")),
    Clause(T, "Emailing the Heretto Help Desk at support@heretto.com", TIERS, "support_channels",
           Contains("e-mail support@heretto.com")),
    Clause(T, "Calling the Heretto Help Desk at 1-877-492-2960", TIERS, "support_channels",
           Contains("phone 1-877-492-2960")),
    Clause(T, "from an unregistered person will be considered Severity 4", TIERS,
           "unregistered_sender_severity", 4),
    Clause(T, "Issues communicated to any other Heretto person or entity", TIERS,
           "support_notes", Contains("any other Heretto person or entity are Severity 4")),
    Clause(T, "By submitting a Support Request you are authorizing", TIERS, "filing_notice",
           Contains("download or copy any data necessary for troubleshooting")),
    Clause(T, "By submitting a support request you are authorizing", TIERS, "filing_notice",
           Contains("for the duration of the issue")),
    Clause(T, "Communication directly with an account manager", TIERS, "support_notes",
           Contains("not covered by Issue Response and Resolution Times")),
    Clause(T, "We will assign a priority level (Severity 1, Severity 2, Severity 3, or Severity 4)",
           TIERS, "severities.levels", [1, 2, 3, 4]),
    *[Clause(T, f"Severity {n}.", TIERS, f"severities[{n}].severity", n) for n in (1, 2, 3, 4)],
    Clause(T, "Customer cannot use most or all of a product or service", TIERS,
           "severities[1].description", "LINE"),
    Clause(T, "Customer is prevented from executing one or more critical business processes",
           TIERS, "severities[2].description", "LINE"),
    Clause(T, "Primary product functionality is severely impacted and unusable", TIERS,
           "severities[3].description", "LINE"),
    Clause(T, "Some customers (not all) are receiving intermittent errors", TIERS,
           "severities[4].description", "LINE"),
    Clause(T, "may in its discretion reclassify an issue", TIERS, "support_notes",
           Contains("may reclassify")),
    Clause(T, "We commit to the following response and resolution times", TIERS,
           "severities[1].response", (30, "minutes")),
    Clause(T, "maximum Recovery Point Objective is 24 hours", TIERS, "rpo_hours", 24),
    Clause(T, "Customer data is backed up daily", TIERS, "backup_frequency", "daily"),
    Clause(T, "at the Required Monthly Availability. If we fail", TIERS, "target_availability",
           D("99.500")),
    Clause(T, "multiplied by the prorated monthly subscription cost related to the impacted",
           TIERS, "credit_rule", "tiered"),
    Clause(T, "applied to the next subscription services invoice", TIERS, "credit_applies_to",
           Contains("Heretto Professional Services invoice")),
    Clause(T, "Support PackageHeretto CCMSHeretto EnterpriseDeploy EssentialDeploy Scale",
           ("heretto-ccms",), "name", "Heretto CCMS SLA"),
    Clause(T, "Email & Support Portal Communication", TIERS, "support_channels",
           Contains("support.heretto.com")),
    Clause(T, "Severity 1 issue Support Hours", TIERS, "severities[1].around_the_clock", True),
    Clause(T, "24/7", TIERS, "severities[1].around_the_clock", True),
    Clause(T, "Help Desk Support hours for all issues other than Severity 1", TIERS,
           "severities[2].around_the_clock", False),
    Clause(T, "3AM ET – 8PM ET Monday - Friday", TIERS, "support_calendar.hours",
           {d: ["03:00-20:00"] for d in WEEKDAYS}),
    Clause(T, "Production Data Backup Retention", ("heretto-ccms",), "backup_retention_days", 14),
    Clause(T, "14 days", ("heretto-ccms",), "backup_retention_days", 14),
    Clause(T, "60 days", ("heretto-enterprise",), "backup_retention_days", 60),
    Clause(T, "N/A", ("deploy-essential", "deploy-scale"), "backup_retention_days", None),
    Clause(T, "Required Monthly Availability99.5%99.5%99.5%99.5%", TIERS, "target_availability",
           D("99.500")),
    Clause(T, "Issue SeverityResponse TimeResolution Time", TIERS, "severities.levels",
           [1, 2, 3, 4]),
    Clause(T, "Severity 1", TIERS, "severities[1].around_the_clock", True),
    Clause(T, "Fewer than 30 minutes", TIERS, "severities[1].response", (30, "minutes")),
    Clause(T, "Fewer than 8 hours", TIERS, "severities[1].resolution", (480, "minutes")),
    Clause(T, "Fewer than 8 hours", TIERS, "severities[3].response", (480, "minutes")),
    Clause(T, "Severity 2", TIERS, "severities[2].around_the_clock", False),
    Clause(T, "Fewer than 4 hours", TIERS, "severities[2].response", (240, "minutes")),
    Clause(T, "2 business days", TIERS, "severities[2].resolution", (2, "business_days")),
    Clause(T, "Severity 3", TIERS, "severities[3].around_the_clock", False),
    Clause(T, "4 business days", TIERS, "severities[3].resolution", (4, "business_days")),
    Clause(T, "Severity 4", TIERS, "severities[4].around_the_clock", False),
    Clause(T, "Fewer than 48 hours", TIERS, "severities[4].response", (2880, "minutes")),
    Clause(T, "N/A (resolution not guaranteed)", TIERS, "severities[4].resolution",
           (None, "none")),
    Clause(T, "Subscription Tiers: Heretto CCMS, Heretto Enterprise, Deploy Essential, and Deploy",
           ("deploy-scale",), "name", "Deploy Scale SLA"),
    Clause(T, "AvailabilityService Percentage Credit", TIERS, "bands.count", 5),
    # Bands are half-open on the exact availability: "98.00% - 99.49%" is [98.00, 99.50).
    Clause(T, "99.50% - 100.00%", TIERS, "bands[99.500].upper_pct", None),
    Clause(T, "0%", TIERS, "bands[99.500].credit_pct", D("0.00")),
    Clause(T, "98.00% - 99.49%", TIERS, "bands[98.000].upper_pct", D("99.500")),
    Clause(T, "5%", TIERS, "bands[98.000].credit_pct", D("5.00")),
    Clause(T, "95.00% - 97.99%", TIERS, "bands[95.000].upper_pct", D("98.000")),
    Clause(T, "10%", TIERS, "bands[95.000].credit_pct", D("10.00")),
    Clause(T, "90.00% - 94.99%", TIERS, "bands[90.000].upper_pct", D("95.000")),
    Clause(T, "35%", TIERS, "bands[90.000].credit_pct", D("35.00")),
    Clause(T, "Less than 90.00%", TIERS, "bands[0.000].upper_pct", D("90.000")),
    Clause(T, "50%", TIERS, "bands[0.000].credit_pct", D("50.00")),
    # ----- 000: the multiplier SLA ---------------------------------------------------
    Clause(M, "Balto provides most Support Services during Support Hours as noted on the Order",
           BALTO, "support_terms_in_order_form", True),
    Clause(M, "Balto provides most Support Services during Support Hours as noted on the Order",
           BALTO, "support_calendar", None),
    Clause(M, "Unlimited Service Requests and Case Management", BALTO, "support_notes",
           Contains("Unlimited service requests and case management")),
    Clause(M, "Email & Video Call support", BALTO, "support_channels",
           Contains("E-mail support@balto.ai")),
    Clause(M, "Email: support@balto.ai", BALTO, "support_channels", Contains("support@balto.ai")),
    Clause(M, "Video Calls are scheduled via the same email address", BALTO, "support_channels",
           Contains("video calls scheduled via the same address")),
    Clause(M, "For emergency support of Severity 1 & 2 Tickets on weekends", BALTO,
           "off_hours_severity1_channel", Contains("855-462-2586, ext. 2")),
    Clause(M, "based on the response time noted on the Order Form", BALTO,
           "severities[1].response", (None, "none")),
    Clause(M, "A response is an initial reply", BALTO, "support_notes",
           Contains("a response is an initial reply")),
    Clause(M, "Access to error correction updates", BALTO, "support_notes",
           Contains("access to error correction updates")),
    Clause(M, "Proactive escalation", BALTO, "support_notes", Contains("proactive escalation")),
    Clause(M, "Level Description", BALTO, "severities.levels", [1, 2, 3, 4]),
    Clause(M, "Severity 1 Major Impact", BALTO, "severities[1].name", "Major Impact"),
    Clause(M, "An issue that cannot be reasonably circumvented", BALTO,
           "severities[1].description", "LINE"),
    Clause(M, "Severity 2Moderate Impact", BALTO, "severities[2].name", "Moderate Impact"),
    Clause(M, "An issue that restricts Client’s ability to use one or more features.", BALTO,
           "severities[2].description", "LINE"),
    Clause(M, "Severity 3Minor Impact", BALTO, "severities[3].name", "Minor Impact"),
    Clause(M, "(Performance/Operational Impact).", BALTO, "severities[3].description", "LINE"),
    Clause(M, "Severity 4No Issue", BALTO, "severities[4].name", "No Issue"),
    Clause(M, "A request for general support, installation questions", BALTO,
           "severities[4].description", "LINE"),
    Clause(M, "Balto provides a 99.5% Uptime Commitment", BALTO, "target_availability",
           D("99.500")),
    Clause(M, "apply a Service Credit to your account for future use", BALTO,
           "credit_applies_to", Contains("for future use")),
    Clause(M, "6:00am to 9:00pm Central Time, seven days a week", BALTO,
           "measurement_calendar.hours", {d: ["06:00-21:00"] for d in EVERY_DAY}),
    Clause(M, "6:00am to 9:00pm Central Time, seven days a week", BALTO,
           "measurement_calendar.time_zone", "America/Chicago"),
    # Maintenance is done after hours "as much as possible": not a permitted downtime item, so
    # maintenance inside business hours counts.
    Clause(M, "we will perform maintenance after Business Hours as much as possible", BALTO,
           "exclusions[scheduled_maintenance]", None),
    Clause(M, "starts when a critical Balto service is confirmed unavailable", BALTO,
           "downtime_starts_at", "confirmation"),
    Clause(M, "starts when a critical Balto service is confirmed unavailable", BALTO,
           "counts_only_critical_services", True),
    Clause(M, "excluding non-Business Hours", BALTO, "measurement_calendar.code",
           "balto-business-hours"),
    Clause(M, "Downtime excludes the following:", BALTO, "exclusions.treatments", {"permitted"}),
    Clause(M, "Issues that are related to external apps or third parties", BALTO,
           "exclusions[third_party].clause", "LINE"),
    Clause(M, "Slowness or other performance issues", BALTO,
           "exclusions[performance_degradation].clause", "LINE"),
    Clause(M, "Any downtime for products or features we identify as pilot", BALTO,
           "exclusions[beta_feature].clause", "LINE"),
    Clause(M, "Issues related to external apps, networks and equipment", BALTO,
           "exclusions[external_network].clause", "LINE"),
    Clause(M, "Reporting, playbook configuration and user management", BALTO,
           "exclusions[reporting_config].clause", "LINE"),
    Clause(M, "Non-critical workflows or workflows with workarounds", BALTO,
           "exclusions[non_critical_workflow].clause", "LINE"),
    # The document gives no figure for "significant"; the catalog sets 10 % of the service's
    # customers (an outage scoped to fewer accounts is permitted downtime).
    Clause(M, "Issues not impacting a significant subset of customers", BALTO,
           "significant_subset_pct", D("10.00")),
    Clause(M, "(collectively, “Permitted Downtime”).", BALTO, "exclusions.treatments",
           {"permitted"}),
    Clause(M, "percentage of total possible minutes Balto was available during a month", BALTO,
           "denominator_basis", "calendar_minutes"),
    Clause(M, "maintain at least 99.5% Uptime", BALTO, "target_availability", D("99.500")),
    Clause(M, "equal to 10 times the amount that the customer paid", BALTO, "credit_multiplier",
           D("10.00")),
    Clause(M, "equal to 10 times the amount that the customer paid", BALTO, "credit_rule",
           "multiplier"),
    Clause(M, "cannot be exchanged into a cash amount", BALTO, "credits_redeemable_for_cash",
           False),
    Clause(M, "capped at a maximum of 30% of paid service during the month", BALTO,
           "credit_cap_pct", D("30.00")),
    Clause(M, "require you to have paid any outstanding invoices prior to the Downtime event",
           BALTO, "requires_paid_invoices", True),
    Clause(M, "expire upon termination of your customer contract", BALTO,
           "credits_expire_on_termination", True),
    Clause(M, "sole and exclusive remedy", BALTO, "credits_sole_remedy", True),
    Clause(M, "visit https://status.balto.ai/", BALTO, "status_page_url",
           "https://status.balto.ai/"),
]

# Lines that state no term, and why.
NOT_TERMS: list[tuple[str, str, str]] = [
    (T, "1. SaaS Service Level Agreement", "heading"),
    (T, "{{table_tos}}", "template placeholder; the tables follow at the end of the document"),
    (T, "{{table_rrt}}", "template placeholder; the table follows at the end of the document"),
    (T, "{{table_availability-1}}", "template placeholder"),
    (T, "{{table_availability-2}}", "template placeholder"),
    (T, "2. Definitions", "heading"),
    (T, "Response means our action in response to notification",
     "defines the response clock (first public staff reply) that the tickets module measures"),
    (T, "Support Request means a request made to us",
     "defines a ticket; the tickets module implements it"),
    (T, "3. Help Desk Support", "heading"),
    (T, "4. Our Support Response and Resolution Commitment", "heading"),
    (T, "4.1. Issues Classification", "heading"),
    (T, "4.2. Issue Response and Resolution Times", "heading"),
    (T, "5. Recovery Point Objective", "heading"),
    (T, "6. Services Availability", "heading"),
    (T, "6.1. Availability Percentage", "heading"),
    (T, "Issue Classification", "table heading"),
    (T, "Create great content together", "marketing copy"),
    (T, "Write, review, translate, and publish all from one system", "marketing copy"),
    (M, "Service Level Agreement", "heading"),
    (M, "& Support Services", "heading"),
    (M, "Support Services", "heading"),
    (M, "Business Hours", "heading"),
    (M, "Downtime", "heading"),
    (M, "Uptime Commitment", "heading"),
    (M, "(the “Uptime Commitment”).", "label of a formula the document does not reproduce"),
    (M, "Service Credits", "heading"),
    (M, "Note", "heading"),
    (M, "Downtime may not impact every customer account at the same time",
     "outages carry a per-account scope (outages module); the status page link is mapped above"),
]


def _seed_lines(doc: str) -> list[str]:
    """Non-empty lines, bullets and non-breaking spaces normalised away."""
    text = (SEEDS / doc).read_text(encoding="utf-8")
    return [_bullet(" ".join(ln.split())) for ln in text.splitlines() if ln.strip()]


def _hours(calendar: Calendar) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for iv in calendar.intervals.order_by("weekday", "start_minute"):
        result.setdefault(EVERY_DAY[iv.weekday], []).append(
            f"{iv.start_minute // 60:02d}:{iv.start_minute % 60:02d}-"
            f"{iv.end_minute // 60:02d}:{iv.end_minute % 60:02d}"
        )
    return result


def resolve(policy: SLAPolicy, path: str) -> Any:
    """Follow a clause's field path on a policy (see CLAUSES)."""
    if "]" in path:  # a bracket key may hold dots (bands[99.500])
        head, _, rest = path.partition("]")
        head, rest = head + "]", rest.lstrip(".")
    else:
        head, _, rest = path.partition(".")
    if head == "severities" and rest == "levels":
        return sorted(policy.severities.values_list("severity", flat=True))
    if head == "exclusions" and rest == "treatments":
        return set(policy.exclusions.values_list("treatment", flat=True))
    if head == "bands" and rest == "count":
        return policy.bands.count()
    if "[" in head:
        name, key = head[:-1].split("[")
        obj: Any
        if name == "exclusions":
            obj = PolicyExclusion.objects.filter(policy=policy, category=key).first()
        elif name == "severities":
            obj = SeverityTerm.objects.get(policy=policy, severity=int(key))
        else:
            obj = CreditBand.objects.get(policy=policy, lower_pct=Decimal(key))
    else:
        obj = getattr(policy, head)
    for attr in filter(None, rest.split(".")):
        if attr in ("response", "resolution"):
            obj = (getattr(obj, f"{attr}_value"), getattr(obj, f"{attr}_unit"))
        elif attr == "hours":
            obj = _hours(obj)
        else:
            obj = getattr(obj, attr)
    return obj


def _line_for(clause: Clause) -> str:
    matches = [ln for ln in _seed_lines(clause.doc) if clause.excerpt in ln]
    assert matches, f"{clause.excerpt!r} is not in {clause.doc}"
    return matches[0]


@pytest.mark.parametrize(
    "clause", CLAUSES, ids=[f"{c.doc[:3]}:{c.excerpt[:40]}->{c.path}" for c in CLAUSES]
)
def test_clause_is_expressed_by_the_catalog(catalog, clause: Clause):
    line = _line_for(clause)
    expected = _bullet(line) if clause.expected == "LINE" else clause.expected
    for code in clause.policies:
        policy = SLAPolicy.objects.get(code=code, version=1)
        actual = resolve(policy, clause.path)
        if isinstance(expected, Contains):
            assert expected.text in actual, f"{code}.{clause.path}: {actual!r}"
        else:
            assert actual == expected, f"{code}.{clause.path}"


@pytest.mark.parametrize("doc", [TIERED_DOC, MULTIPLIER_DOC])
def test_every_line_of_both_documents_is_accounted_for(doc):
    excerpts = [c.excerpt for c in CLAUSES if c.doc == doc]
    skipped = [text for d, text, _ in NOT_TERMS if d == doc]
    for text in excerpts + skipped:
        assert any(text in ln for ln in _seed_lines(doc)), f"{text!r} is not in {doc}"
    unaccounted = [
        ln for ln in _seed_lines(doc)
        if not any(e in ln for e in excerpts) and ln not in skipped
        and not any(ln.startswith(s) for s in skipped)
    ]
    assert unaccounted == []


def test_loading_the_catalog_twice_changes_nothing(db, capsys):
    call_command("load_sla_catalog")
    first = capsys.readouterr().out
    ids = sorted(SLAPolicy.objects.values_list("id", flat=True))
    bands = sorted(CreditBand.objects.values_list("id", flat=True))
    call_command("load_sla_catalog")
    second = capsys.readouterr().out
    assert "8 created, 0 updated, 0 unchanged" in first
    assert "0 created, 0 updated, 8 unchanged" in second
    assert sorted(SLAPolicy.objects.values_list("id", flat=True)) == ids
    assert sorted(CreditBand.objects.values_list("id", flat=True)) == bands


def _catalog() -> dict[str, Any]:
    return json.loads(DEFAULT_CATALOG.read_text(encoding="utf-8"))


def _policy(data: dict[str, Any], code: str) -> dict[str, Any]:
    return next(p for p in data["policies"] if p["code"] == code)


def _calendar(data: dict[str, Any], code: str) -> dict[str, Any]:
    return next(c for c in data["calendars"] if c["code"] == code)


def _overlap(d):
    _calendar(d, "heretto-help-desk")["hours"]["mon"].append(["19:00", "21:00"])


def _reversed(d):
    _calendar(d, "heretto-help-desk")["hours"]["tue"] = [["20:00", "03:00"]]


def _unknown_zone(d):
    _calendar(d, "balto-business-hours")["time_zone"] = "America/Chicagoo"


def _band_gap(d):
    _policy(d, "heretto-ccms")["bands"][1] = ["98.000", "99.000", "5"]


def _band_overlap(d):
    _policy(d, "heretto-ccms")["bands"][1] = ["98.000", "99.600", "5"]


def _bad_target(d):
    _policy(d, "balto-uptime")["target_availability"] = "120"


def _unknown_term(d):
    _policy(d, "balto-uptime")["credit_multipler"] = "10"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (_overlap, "overlap"),
        (_reversed, "20:00"),
        (_unknown_zone, "America/Chicagoo"),
        (_band_gap, "gap"),
        (_band_overlap, "overlaps"),
        (_bad_target, "Target availability"),
        (_unknown_term, "credit_multipler"),
    ],
)
def test_a_bad_catalog_is_refused_with_the_problem_named_and_nothing_saved(
    db, tmp_path, mutate, message
):
    data = _catalog()
    mutate(data)
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(CommandError) as excinfo:
        call_command("load_sla_catalog", file=str(path))
    assert message in str(excinfo.value)
    assert "nothing saved" in str(excinfo.value)
    assert SLAPolicy.objects.count() == 0
    assert Calendar.objects.count() == 0


def test_a_policy_in_use_cannot_be_rewritten_without_a_new_version(catalog, tmp_path):
    from tests.factories import ContractFactory

    ContractFactory(policy=SLAPolicy.objects.get(code="balto-uptime"))
    data = _catalog()
    _policy(data, "balto-uptime")["credit_cap_pct"] = "25.00"
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(CommandError, match="new version"):
        call_command("load_sla_catalog", file=str(path))
    assert SLAPolicy.objects.get(code="balto-uptime").credit_cap_pct == Decimal("30.00")
