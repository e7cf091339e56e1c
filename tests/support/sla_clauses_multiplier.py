"""The multiplier SLA (seed document 000) as clauses of the catalog; see tests/support/sla_clauses.py."""

from __future__ import annotations

from decimal import Decimal

from tests.support.sla_clauses import BALTO, EVERY_DAY, MULTIPLIER_DOC, Clause, Contains

M = MULTIPLIER_DOC
D = Decimal
CLAUSES: list[Clause] = [
    Clause(
        M,
        "Balto provides most Support Services during Support Hours as noted on the Order",
        BALTO,
        "support_terms_in_order_form",
        True,
    ),
    Clause(
        M,
        "Balto provides most Support Services during Support Hours as noted on the Order",
        BALTO,
        "support_calendar",
        None,
    ),
    Clause(
        M,
        "Unlimited Service Requests and Case Management",
        BALTO,
        "support_notes",
        Contains("Unlimited service requests and case management"),
    ),
    Clause(
        M,
        "Email & Video Call support",
        BALTO,
        "support_channels",
        Contains("E-mail support@balto.ai"),
    ),
    Clause(M, "Email: support@balto.ai", BALTO, "support_channels", Contains("support@balto.ai")),
    Clause(
        M,
        "Video Calls are scheduled via the same email address",
        BALTO,
        "support_channels",
        Contains("video calls scheduled via the same address"),
    ),
    Clause(
        M,
        "For emergency support of Severity 1 & 2 Tickets on weekends",
        BALTO,
        "off_hours_severity1_channel",
        Contains("855-462-2586, ext. 2"),
    ),
    Clause(
        M,
        "based on the response time noted on the Order Form",
        BALTO,
        "severities[1].response",
        (None, "none"),
    ),
    Clause(
        M,
        "A response is an initial reply",
        BALTO,
        "support_notes",
        Contains("a response is an initial reply"),
    ),
    Clause(
        M,
        "Access to error correction updates",
        BALTO,
        "support_notes",
        Contains("access to error correction updates"),
    ),
    Clause(M, "Proactive escalation", BALTO, "support_notes", Contains("proactive escalation")),
    Clause(M, "Level Description", BALTO, "severities.levels", [1, 2, 3, 4]),
    Clause(M, "Severity 1 Major Impact", BALTO, "severities[1].name", "Major Impact"),
    Clause(
        M,
        "An issue that cannot be reasonably circumvented",
        BALTO,
        "severities[1].description",
        "LINE",
    ),
    Clause(M, "Severity 2Moderate Impact", BALTO, "severities[2].name", "Moderate Impact"),
    Clause(
        M,
        "An issue that restricts Client’s ability to use one or more features.",
        BALTO,
        "severities[2].description",
        "LINE",
    ),
    Clause(M, "Severity 3Minor Impact", BALTO, "severities[3].name", "Minor Impact"),
    Clause(M, "(Performance/Operational Impact).", BALTO, "severities[3].description", "LINE"),
    Clause(M, "Severity 4No Issue", BALTO, "severities[4].name", "No Issue"),
    Clause(
        M,
        "A request for general support, installation questions",
        BALTO,
        "severities[4].description",
        "LINE",
    ),
    Clause(
        M, "Balto provides a 99.5% Uptime Commitment", BALTO, "target_availability", D("99.500")
    ),
    Clause(
        M,
        "apply a Service Credit to your account for future use",
        BALTO,
        "credit_applies_to",
        Contains("for future use"),
    ),
    Clause(
        M,
        "6:00am to 9:00pm Central Time, seven days a week",
        BALTO,
        "measurement_calendar.hours",
        {d: ["06:00-21:00"] for d in EVERY_DAY},
    ),
    Clause(
        M,
        "6:00am to 9:00pm Central Time, seven days a week",
        BALTO,
        "measurement_calendar.time_zone",
        "America/Chicago",
    ),
    # Maintenance is done after hours "as much as possible": not a permitted downtime item, so
    # maintenance inside business hours counts.
    Clause(
        M,
        "we will perform maintenance after Business Hours as much as possible",
        BALTO,
        "exclusions[scheduled_maintenance]",
        None,
    ),
    Clause(
        M,
        "starts when a critical Balto service is confirmed unavailable",
        BALTO,
        "downtime_starts_at",
        "confirmation",
    ),
    Clause(
        M,
        "starts when a critical Balto service is confirmed unavailable",
        BALTO,
        "counts_only_critical_services",
        True,
    ),
    Clause(
        M,
        "excluding non-Business Hours",
        BALTO,
        "measurement_calendar.code",
        "balto-business-hours",
    ),
    Clause(M, "Downtime excludes the following:", BALTO, "exclusions.treatments", {"permitted"}),
    Clause(
        M,
        "Issues that are related to external apps or third parties",
        BALTO,
        "exclusions[third_party].clause",
        "LINE",
    ),
    Clause(
        M,
        "Slowness or other performance issues",
        BALTO,
        "exclusions[performance_degradation].clause",
        "LINE",
    ),
    Clause(
        M,
        "Any downtime for products or features we identify as pilot",
        BALTO,
        "exclusions[beta_feature].clause",
        "LINE",
    ),
    Clause(
        M,
        "Issues related to external apps, networks and equipment",
        BALTO,
        "exclusions[external_network].clause",
        "LINE",
    ),
    Clause(
        M,
        "Reporting, playbook configuration and user management",
        BALTO,
        "exclusions[reporting_config].clause",
        "LINE",
    ),
    Clause(
        M,
        "Non-critical workflows or workflows with workarounds",
        BALTO,
        "exclusions[non_critical_workflow].clause",
        "LINE",
    ),
    # The document gives no figure for "significant"; the catalog sets 10 % of the service's
    # customers (an outage scoped to fewer accounts is permitted downtime).
    Clause(
        M,
        "Issues not impacting a significant subset of customers",
        BALTO,
        "significant_subset_pct",
        D("10.00"),
    ),
    Clause(
        M, "(collectively, “Permitted Downtime”).", BALTO, "exclusions.treatments", {"permitted"}
    ),
    Clause(
        M,
        "percentage of total possible minutes Balto was available during a month",
        BALTO,
        "denominator_basis",
        "calendar_minutes",
    ),
    Clause(M, "maintain at least 99.5% Uptime", BALTO, "target_availability", D("99.500")),
    Clause(
        M,
        "equal to 10 times the amount that the customer paid",
        BALTO,
        "credit_multiplier",
        D("10.00"),
    ),
    Clause(
        M, "equal to 10 times the amount that the customer paid", BALTO, "credit_rule", "multiplier"
    ),
    Clause(M, "cannot be exchanged into a cash amount", BALTO, "credits_cash_refundable", False),
    Clause(
        M,
        "capped at a maximum of 30% of paid service during the month",
        BALTO,
        "credit_cap_pct",
        D("30.00"),
    ),
    Clause(
        M,
        "require you to have paid any outstanding invoices prior to the Downtime event",
        BALTO,
        "requires_paid_invoices",
        True,
    ),
    Clause(
        M,
        "expire upon termination of your customer contract",
        BALTO,
        "credits_expire_on_termination",
        True,
    ),
    Clause(M, "sole and exclusive remedy", BALTO, "credits_sole_remedy", True),
    # The credit's working quotes the contract's own words.
    Clause(
        M,
        "equal to 10 times the amount that the customer paid",
        BALTO,
        "credit_clause",
        Contains("equal to 10 times the amount that the customer paid"),
    ),
    Clause(
        M,
        "capped at a maximum of 30% of paid service during the month",
        BALTO,
        "credit_cap_clause",
        Contains("capped at a maximum of 30% of paid service during the month"),
    ),
    Clause(
        M,
        "require you to have paid any outstanding invoices prior to the Downtime event",
        BALTO,
        "eligibility_clause",
        Contains("require you to have paid any outstanding invoices prior to the Downtime event"),
    ),
    Clause(
        M, "visit https://status.balto.ai/", BALTO, "status_page_url", "https://status.balto.ai/"
    ),
]

# Lines that state no term, and why.
NOT_TERMS: list[tuple[str, str, str]] = [
    (M, "Service Level Agreement", "heading"),
    (M, "& Support Services", "heading"),
    (M, "Support Services", "heading"),
    (M, "Business Hours", "heading"),
    (M, "Downtime", "heading"),
    (M, "Uptime Commitment", "heading"),
    (M, "(the “Uptime Commitment”).", "label of a formula the document does not reproduce"),
    (M, "Service Credits", "heading"),
    (M, "Note", "heading"),
    (
        M,
        "Downtime may not impact every customer account at the same time",
        "outages carry a per-account scope (outages module); the status page link is mapped above",
    ),
]
