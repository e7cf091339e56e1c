from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from slaportal import roles
from slaportal.twofactor import needs_second_factor

# (roles, url name, label), in the order the navigation shows them. Staff holding
# several roles see the union (each link once); an administrator sees every staff page.
STAFF_NAV = [
    ({roles.ADMIN}, "backoffice-home", "Back office"),
    ({roles.ADMIN}, "backoffice-audit", "Audit log"),
    ({roles.AGENT}, "desk-home", "Queue"),
    ({roles.OPERATIONS}, "ops-home", "Outages"),
    ({roles.OPERATIONS}, "ops-contracts", "Availability"),
    ({roles.ACCOUNT_MANAGER}, "am-home", "Customers"),
    ({roles.ACCOUNT_MANAGER}, "am-credits", "Credits"),
    ({roles.ACCOUNT_MANAGER}, "am-invoices", "Invoices"),
    ({roles.ACCOUNT_MANAGER, roles.OPERATIONS}, "staff-statements", "Statements"),
    ({roles.AGENT, roles.OPERATIONS, roles.ACCOUNT_MANAGER}, "staff-attainment", "SLA report"),
]


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The signed-in person's role and the navigation links it opens."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"role": None, "role_label": "", "staff_roles": set(), "nav_items": []}
    role = roles.primary_role(user)
    held = roles.staff_roles(user)
    if user.customer_id:
        links = [
            ("portal-home", "Home"),
            ("portal-incidents", "Incidents"),
            ("portal-tickets", "Tickets"),
            ("portal-credits", "Credits"),
            ("portal-credit-notes", "Credit notes"),
            ("portal-invoices", "Invoices"),
            ("portal-statements", "Statements"),
            ("portal-attainment", "SLA report"),
        ]
        if user.is_customer_admin:
            links.append(("portal-people", "People"))
    else:
        links = [
            (name, label)
            for needed, name, label in STAFF_NAV
            if needed & held or roles.ADMIN in held
        ]
        if roles.ADMIN in held:
            links.append(("admin:index", "Admin site"))
    second_factor = needs_second_factor(user)
    if second_factor and not user.is_verified():
        links = []  # until the code is given, every link leads back to the code page
    return {
        "role": role,
        "role_label": roles.ROLE_LABELS.get(role or "", ""),
        "staff_roles": held,
        "nav_items": _mark_current(request.path, links),
        "two_factor_link": second_factor,
    }


def _mark_current(path: str, links: list[tuple[str, str]]) -> list[dict[str, Any]]:
    items = [{"url": reverse(name), "label": label, "current": False} for name, label in links]
    # The longest matching prefix wins, so /portal/people/ marks People, not Home.
    matches = [item for item in items if path.startswith(item["url"])]
    if matches:
        max(matches, key=lambda item: len(item["url"]))["current"] = True
    return items
