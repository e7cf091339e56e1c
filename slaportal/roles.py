"""Roles: customer people carry a role on their user row; staff roles are groups."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser

AGENT = "agent"
OPERATIONS = "operations"
ACCOUNT_MANAGER = "account_manager"
ADMIN = "admin"
STAFF_ROLES = (AGENT, OPERATIONS, ACCOUNT_MANAGER, ADMIN)
ROLE_LABELS = {
    AGENT: "Support agent",
    OPERATIONS: "Operations",
    ACCOUNT_MANAGER: "Account manager",
    ADMIN: "Administrator",
    "customer_admin": "Customer admin",
    "customer_user": "Customer user",
}

# Model permissions each staff group holds (app_label.codename prefixes); the admin
# group holds all of them. Later apps add theirs here.
GROUP_PERMISSIONS: dict[str, list[str]] = {
    # Tickets are read-only in the admin; agents work them on the desk pages, which call
    # the services (clocks, history, notifications).
    AGENT: [
        "contracts.view_customer",
        "contracts.view_service",
        "contracts.view_contract",
        "tickets.view_ticket",
        "tickets.view_ticketmessage",
        "tickets.view_attachment",
        "tickets.view_ticketevent",
        "tickets.view_escalation",
    ],
    OPERATIONS: ["contracts.view_customer", "contracts.view_service", "contracts.view_contract"],
    ACCOUNT_MANAGER: [
        "contracts.view_customer",
        "contracts.view_service",
        "contracts.view_contract",
        "contracts.view_contractline",
        "contracts.view_invoice",
        "contracts.view_invoiceline",
        "contracts.view_slapolicy",
        # Credits and the ledger are read-only in the admin; decisions go through the
        # approval pages and the API, which call the services.
        "credits.view_credit",
        "credits.view_creditevent",
        "credits.view_ledgerentry",
        "credits.view_balance",
        "credits.view_manualadjustment",
    ],
    ADMIN: ["*"],
}


def staff_roles(user) -> set[str]:
    if isinstance(user, AnonymousUser) or not user.is_authenticated or user.customer_id:
        return set()
    cached = getattr(user, "_staff_roles", None)
    if cached is None:
        cached = set(user.groups.filter(name__in=STAFF_ROLES).values_list("name", flat=True))
        if user.is_superuser:
            cached.add(ADMIN)
        user._staff_roles = cached
    return cached


def has_role(user, role: str) -> bool:
    return role in staff_roles(user)


def is_staff_member(user) -> bool:
    return bool(staff_roles(user))


def primary_role(user) -> str | None:
    """The role whose home page a user lands on."""
    if not user.is_authenticated:
        return None
    if user.customer_id:
        return "customer_admin" if user.is_customer_admin else "customer_user"
    roles = staff_roles(user)
    for role in (ADMIN, ACCOUNT_MANAGER, OPERATIONS, AGENT):
        if role in roles:
            return role
    return None
