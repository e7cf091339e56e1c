"""bench/tickets.py's data set (not a benchmark itself: ``make bench`` runs
``bench/[!_]*.py``): 200,000 tickets across 2,000 customers of very different sizes, 20
agents, a realistic mix of statuses, severities, channels, assignees and breaches, every
clock column (``next_due_at`` included) computed by the services' own ``sync_clocks``;
and their conversations, about 350,000 messages of words drawn as text's are (a few
common, most rare), internal notes among them, for the desk's search. Built once (bulk
inserts) in the bench's own database and reused."""

from __future__ import annotations

import random
import sys
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

TICKETS, CUSTOMERS, AGENTS, PEOPLE_PER_CUSTOMER = 200_000, 2_000, 20, 3
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # the moment the data set describes
SEED = 20261120
WAIT = timedelta(minutes=20)  # the agent asks a question, then waits on the customer

POLICIES = ("heretto-ccms", "heretto-enterprise", "deploy-essential", "deploy-scale")
SERVICES = "editor publishing search api reports sync".split()
SEVERITIES = {1: 3, 2: 17, 3: 45, 4: 35}
STATUSES = {"closed": 82, "resolved": 8, "open": 5, "new": 2.5, "waiting_on_customer": 2.5}
CHANNELS = {"portal": 80, "email": 15, "phone": 5}
ASSIGNED_SHARE = {"new": 0.2, "open": 0.85, "waiting_on_customer": 0.9}
CONTRACT = {"start_date": date(2024, 1, 1), "currency": "USD"}  # every contract's terms
# Customer names as a provider's list has them: a word, a trade, a number to keep them
# apart. A search for one word finds about one customer in 40 (50 of 2,000).
WORDS = (
    "Acme Apex Argo Atlas Aurora Beacon Birch Blue Bright Cedar Cobalt Coral Crest Delta "
    "Ember Falcon Fjord Granite Harbor Helix Indigo Iris Juniper Keystone Lumen Maple "
    "Meridian Nimbus Northwind Oak Onyx Orbit Pine Quartz Raven Sage Summit Tidal Vertex Zephyr"
).split()
TRADES = "Logistics Health Media Labs Foods Energy Retail Systems Partners Group".split()


def customer_name(i: int) -> str:
    return f"{WORDS[i % len(WORDS)]} {TRADES[(i // len(WORDS)) % len(TRADES)]} {i:04d}"


def prepare(url: str) -> None:
    """Migrate, load the SLA catalog, and build the data set unless it is there (the
    conversations too: a data set built before they were part of it gets them)."""
    import time

    from django.core.management import call_command

    from contracts.catalog import catalog_load
    from contracts.models import Customer
    from tickets.models import Ticket, TicketMessage

    call_command("migrate", interactive=False, verbosity=0)
    catalog_load()
    counts = (Customer.objects.count(), Ticket.objects.count())
    if counts == (CUSTOMERS, TICKETS):
        print("reusing the data set (--rebuild to start again)")
    elif any(counts):
        sys.exit(f"{url} holds another data set {counts}: run with --rebuild")
    else:
        started = time.perf_counter()
        build(customers=CUSTOMERS, now=NOW)
        print(f"built the data set in {time.perf_counter() - started:.1f} s")
    if not TicketMessage.objects.exists():
        started = time.perf_counter()
        build_messages(now=NOW)
        print(f"built the conversations in {time.perf_counter() - started:.1f} s")


def _pick(rng: random.Random, weights: dict) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _ticket(rng: random.Random, contract, parties, terms, now: datetime) -> Any:
    """One ticket as the services would have left it (clock columns filled later)."""
    from tickets.models import Ticket

    services, people, agents = parties
    severity, status = _pick(rng, SEVERITIES), _pick(rng, STATUSES)
    done = status in ("resolved", "closed")
    # Done tickets over two years; the backlog mostly recent, with a stale tail.
    days = rng.uniform(2, 730) if done else min(rng.expovariate(1 / 4), 120)
    received = (now - timedelta(days=days, minutes=5)).replace(microsecond=0)
    calendar = terms.calendar_for(severity)
    (response, resolution), responded, resolved, closed = terms.targets(severity), None, None, None
    answered = done or status == "waiting_on_customer" or (status == "open" and rng.random() < 0.8)
    if answered and response is not None:
        share = rng.choice([0.1, 0.3, 0.5, 0.8, 0.95]) if rng.random() < 0.9 else 1.5
        responded = min(calendar.due(received, response * share), now)
    if done:
        share = rng.uniform(1.05, 2.5) if rng.random() < 0.1 else rng.uniform(0.2, 0.98)
        if resolution is not None:  # one in ten resolved late
            resolved = calendar.due(received, resolution * share)
        else:
            resolved = received + timedelta(days=rng.uniform(1, 20))
        resolved = min(max(resolved, responded or received), now)
        closed = min(resolved + timedelta(days=2), now) if status == "closed" else None
    channel, requester = _pick(rng, CHANNELS), rng.choice(people)
    assigned = rng.random() < (0.9 if done else ASSIGNED_SHARE[status])
    return Ticket(  # created_at: e-mail and phone tickets are typed in a little later
        customer_id=contract.customer_id,
        contract=contract,
        service=rng.choice(services),
        subject=f"Issue {rng.randrange(10**6):06d} in {rng.choice(SERVICES)}",
        description="Benchmark ticket.",
        severity=severity,
        status=status,
        channel=channel,
        received_at=received,
        created_at=received if channel == "portal" else received + timedelta(minutes=7),
        created_by=requester,
        requester=requester,
        assignee=rng.choice(agents) if assigned else None,
        responded_at=responded,
        resolved_at=resolved,
        closed_at=closed,
    )


def build(*, customers: int, now: datetime) -> None:
    """The data set as it stands at ``now``, with ``customers`` customers (bench/load.py
    builds its own through bench/tickets.py's ``build``)."""
    from django.contrib.auth.models import Group
    from django.db import connection, transaction

    from contracts.models import Contract, ContractLine, Customer, Service, SLAPolicy, User
    from slaportal import roles
    from tickets.models import Ticket, TicketPause
    from tickets.selectors import support_terms_for
    from tickets.services._common import CLOCK_FIELDS, sync_clocks

    rng = random.Random(SEED)
    with transaction.atomic():
        services = Service.objects.bulk_create(Service(code=c, name=c.title()) for c in SERVICES)
        orgs = Customer.objects.bulk_create(
            Customer(name=customer_name(i), billing_emails=f"billing@c{i}.example")
            for i in range(customers)
        )
        policies = [SLAPolicy.objects.filter(code=c).order_by("-version")[0] for c in POLICIES]
        contracts = Contract.objects.bulk_create(
            Contract(customer=c, policy=policies[i % 4], reference=f"T-{i}", **CONTRACT)
            for i, c in enumerate(orgs)
        )
        lines = {c.pk: rng.sample(services, 2) for c in contracts}
        ContractLine.objects.bulk_create(
            ContractLine(contract_id=pk, service=s, monthly_fee=Decimal("990"))
            for pk, chosen in lines.items()
            for s in chosen
        )
        agents = User.objects.bulk_create(
            User(username=f"agent{i:02d}@x.example") for i in range(AGENTS)
        )
        Group.objects.get_or_create(name=roles.AGENT)[0].user_set.add(*agents)
        people = User.objects.bulk_create(
            User(username=f"p{n}@c{c.pk}.example", customer=c, customer_role="user")
            for c in orgs
            for n in range(PEOPLE_PER_CUSTOMER)
        )
        people_of: dict[int, list] = {}
        for person in people:
            people_of.setdefault(person.customer_id, []).append(person)
        # Contract i is under policy i % 4, with the policy's terms: one set per policy.
        terms = {c.policy_id: support_terms_for(c) for c in contracts[: len(POLICIES)]}
        # A few customers file most of the tickets (weights ~ 1/rank^0.8).
        weights = [1 / (rank + 1) ** 0.8 for rank in range(customers)]
        tickets = []
        for contract in rng.choices(contracts, weights=weights, k=TICKETS):
            parties = (lines[contract.pk], people_of[contract.customer_id], agents)
            tickets.append(
                ticket := _ticket(rng, contract, parties, terms[contract.policy_id], now)
            )
            if ticket.status != "waiting_on_customer":
                sync_clocks(ticket, now=now, terms=terms[contract.policy_id], new=True)
        tickets.sort(key=lambda t: t.created_at)  # rows on disk in the order they came
        Ticket.objects.bulk_create(tickets, batch_size=5_000)
        # Waiting on the customer: an open pause since the reply, and the clocks with it.
        waiting = [t for t in tickets if t.status == "waiting_on_customer"]
        TicketPause.objects.bulk_create(
            TicketPause(ticket=t, kind="waiting", started_at=min(t.responded_at + WAIT, now))
            for t in waiting
        )
        for ticket in waiting:
            sync_clocks(ticket, now=now, terms=terms[ticket.contract.policy_id])
        Ticket.objects.bulk_update(waiting, CLOCK_FIELDS, batch_size=250)
    with connection.cursor() as cursor:  # what autovacuum does to a settled table
        cursor.execute("VACUUM ANALYZE")


def data_mix() -> dict[str, Any]:
    from django.db.models import Count

    from tickets.models import Ticket

    rows = Ticket.objects.values_list("status").annotate(n=Count("id"))
    mix = {status: n for status, n in rows.order_by()}
    open_ = Ticket.objects.filter(status__in=Ticket.OPEN_STATUSES)
    mix["open, running deadline"] = open_.filter(next_due_at__isnull=False).count()
    mix["open, unassigned"] = open_.filter(assignee__isnull=True).count()
    return dict(sorted(mix.items()))


# ---------------------------------------------------------------- conversations

MESSAGES_PER_TICKET = {0: 25, 1: 25, 2: 20, 3: 15, 4: 10, 5: 5}  # about 1.75 a ticket
INTERNAL_SHARE = 0.15  # of the staff's messages
# Words found in exactly one message, the third of its ticket: what the search bench
# looks for (a vocabulary word has no digit, so none is found anywhere else).
NEEDLES = tuple(f"kestrel{n:02d}quill" for n in range(20))
SUPPORT_WORDS = (
    "error export import publish login timeout slow page report sync api token search "
    "failed server browser upload download file folder permission user account password "
    "update release version build deploy schedule job queue retry restart crash memory "
    "disk network proxy certificate email notification invoice license editor preview "
    "template branch merge review comment attachment screenshot log trace customer"
).split()


def _vocabulary(rng: random.Random, size: int = 4_000) -> list[str]:
    """Support words, then made-up words of two to four syllables (no digits)."""
    syllables = [c + v for c in "bcdfghklmnprstvz" for v in "aeiou"]
    words = list(SUPPORT_WORDS)
    seen = set(words)
    while len(words) < size:
        word = "".join(rng.choices(syllables, k=rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


def build_messages(*, now: datetime) -> None:
    """Each ticket's conversation: staff replies and customer messages taking turns after
    it was received, a few of the staff's internal notes. A needle word goes into the
    third message of ``len(NEEDLES)`` tickets spread over the table."""
    from itertools import accumulate

    from django.db import connection, transaction

    from tickets.models import Ticket, TicketMessage

    rng = random.Random(SEED + 1)
    words = _vocabulary(rng)
    cumulative = list(accumulate(1 / (rank + 1) for rank in range(len(words))))  # Zipf
    assigned = Ticket.objects.filter(assignee__isnull=False).order_by("assignee_id")
    agents = list(assigned.values_list("assignee_id", flat=True).distinct())
    tickets = list(Ticket.objects.order_by("pk").values_list("pk", "requester_id", "received_at"))
    counts = [_pick(rng, MESSAGES_PER_TICKET) for _ in tickets]
    threes = [i for i, count in enumerate(counts) if count >= 3]
    needles = dict(zip(rng.sample(threes, len(NEEDLES)), NEEDLES, strict=True))
    rows: list = []
    with transaction.atomic():
        for i, ((pk, requester_id, received), count) in enumerate(
            zip(tickets, counts, strict=True)
        ):
            at = received
            for n in range(count):
                at = min(at + timedelta(hours=rng.uniform(0.5, 30)), now)
                staff = n % 2 == 0
                text = " ".join(rng.choices(words, cum_weights=cumulative, k=rng.randint(12, 60)))
                if n == 2 and i in needles:
                    text += f" see also {needles[i]}"
                rows.append(
                    TicketMessage(
                        ticket_id=pk,
                        author_id=rng.choice(agents) if staff else requester_id,
                        from_staff=staff,
                        public=not (staff and rng.random() < INTERNAL_SHARE),
                        body=text.capitalize() + ".",
                        created_at=at,
                    )
                )
            if len(rows) >= 10_000:
                TicketMessage.objects.bulk_create(rows)
                rows = []
        TicketMessage.objects.bulk_create(rows)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE tickets_ticketmessage")


def needle_ticket(needle: str) -> int:
    """The ticket whose third message holds ``needle`` (checked: there and nowhere else)."""
    from tickets.models import TicketMessage

    found = list(TicketMessage.objects.filter(body__contains=needle).values_list("ticket_id", "pk"))
    if len(found) != 1:
        raise RuntimeError(f"{needle}: in {len(found)} messages, not one")
    ticket_id, pk = found[0]
    thread = TicketMessage.objects.filter(ticket_id=ticket_id).order_by("created_at", "pk")
    if list(thread.values_list("pk", flat=True)[2:3]) != [pk]:
        raise RuntimeError(f"{needle}: not in the third message of its ticket")
    return ticket_id


def message_count() -> int:
    from tickets.models import TicketMessage

    return TicketMessage.objects.count()
