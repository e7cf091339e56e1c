"""bench/load.py's data set and plan (not a benchmark itself: ``make bench`` runs
``bench/[!_]*.py``).

bench/tickets.py's builder (200,000 tickets across 2,000 customers of very different
sizes, 3 people each, 20 agents), then what a portal that has been running for a while
holds besides: one password hash for everyone, conversations on a third of the tickets,
each ticket's history (created, assigned, status changes), 48 outages over the last two
months (30 % of them scoped to some customers), last month's statements for every
contract with their PDFs (the monthly run's path, its tasks run in process; a statement
whose credit awaits a decision has none yet), and files on tickets of the customers the
load test signs in as. Each part is built once and reused.
"""

from __future__ import annotations

import importlib.util
import json
import random
import re
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("bench_tickets", ROOT / "bench" / "tickets.py")
tickets_bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tickets_bench)

CUSTOMERS, TICKETS = 2_000, tickets_bench.TICKETS
PASSWORD = "load-bench-password"  # bench users of a bench database
MARK = "[load test]"  # starts every ticket and message the run writes
MESSAGE_SHARE, OUTAGES, SCOPED_SHARE = 0.3, 48, 0.3
PLAN_PEOPLE, PLAN_TICKETS, FILES_PER_PERSON, API_CLIENTS = 500, 30, 3, 40
SEED = 20261123
AFTER = re.compile(r'href="\?([^"]*after=[^"]+)" rel="next"')


def prepare(now: datetime) -> None:
    """Migrate and build whatever part of the data set is missing."""
    from django.core.management import call_command

    from contracts.catalog import catalog_load
    from contracts.models import Customer
    from tickets.models import Ticket

    call_command("migrate", interactive=False, verbosity=0)
    catalog_load()
    remove_written()  # whatever an interrupted run left
    counts = (Customer.objects.count(), Ticket.objects.count())
    if counts not in ((0, 0), (CUSTOMERS, TICKETS)):
        sys.exit(f"the bench database holds another data set {counts}: run with --rebuild")
    for part in (_tickets, _addresses, _events, _outages, _statements):
        started = time.perf_counter()
        if part(now):
            print(f"built {part.__name__[1:]} in {time.perf_counter() - started:.1f} s")


def _tickets(now: datetime) -> bool:
    from django.contrib.auth.hashers import make_password

    from contracts.models import Customer, User

    if Customer.objects.exists():
        return False
    tickets_bench.CUSTOMERS = CUSTOMERS
    tickets_bench.NOW = now
    tickets_bench.build()
    User.objects.update(password=make_password(PASSWORD))  # one PBKDF2 for everyone
    _conversations(random.Random(SEED), now)
    return True


def _addresses(now: datetime) -> bool:
    """Everyone's e-mail address is their user name, so the desk's replies and status
    changes e-mail the customer (through the outbox and the worker), as they would."""
    from django.db.models import F

    from contracts.models import User

    return bool(User.objects.filter(email="").update(email=F("username")))


def _conversations(rng: random.Random, now: datetime) -> None:
    """About a third of the tickets past 'new' get 1–6 messages: the customer, then the
    desk (now and then an internal note), in turn, between receipt and resolution."""
    from contracts.models import User
    from tickets.models import Ticket, TicketMessage

    agents = list(User.objects.filter(username__startswith="agent").values_list("pk", flat=True))
    rows = Ticket.objects.exclude(status=Ticket.Status.NEW).values_list(
        "pk", "requester_id", "assignee_id", "received_at", "resolved_at"
    )
    messages = []
    for pk, requester, assignee, received, resolved in rows.iterator(chunk_size=10_000):
        if rng.random() >= MESSAGE_SHARE:
            continue
        at, end = received, resolved or now
        for n in range(rng.randint(1, 6)):
            at = min(at + timedelta(minutes=rng.randint(5, 600)), end)
            staff = n % 2 == 1
            author = (assignee or rng.choice(agents)) if staff else requester
            public = not staff or rng.random() > 0.15
            body = "Could you send the log from the failing run?" if staff else "Still failing."
            row = {"ticket_id": pk, "author_id": author, "from_staff": staff, "public": public}
            messages.append(TicketMessage(**row, body=body, created_at=at))
    TicketMessage.objects.bulk_create(messages, batch_size=10_000)


def _events(now: datetime) -> bool:
    """Each ticket's history as the services write it: created; assigned; new → open at
    the first response; → waiting, → resolved, → closed as its status says."""
    from django.db import connection

    from tickets.models import Ticket, TicketEvent

    if TicketEvent.objects.exists():
        return False
    rows = Ticket.objects.values_list(
        "pk", "status", "requester_id", "assignee_id", "received_at", "responded_at"
    )
    done = dict(Ticket.objects.values_list("pk", "resolved_at"))
    closed = dict(Ticket.objects.values_list("pk", "closed_at"))
    events: list[TicketEvent] = []

    def change(pk, actor, at, old, new):
        events.append(
            TicketEvent(
                ticket_id=pk,
                kind="status_changed",
                actor_id=actor,
                created_at=at,
                from_status=old,
                to_status=new,
            )
        )

    for pk, status, requester, assignee, received, responded in rows.iterator(chunk_size=10_000):
        events.append(
            TicketEvent(ticket_id=pk, kind="created", actor_id=requester, created_at=received)
        )
        if assignee:
            events.append(
                TicketEvent(
                    ticket_id=pk,
                    kind="assigned",
                    actor_id=assignee,
                    assignee_id=assignee,
                    created_at=received + timedelta(minutes=3),
                )
            )
        if status == "new":
            continue
        at = responded or received + timedelta(minutes=30)
        change(pk, assignee, at, "new", "open")
        if status == "waiting_on_customer":
            change(pk, assignee, min(at + timedelta(minutes=20), now), "open", status)
        elif status in ("resolved", "closed") and done[pk]:
            change(pk, assignee, done[pk], "open", "resolved")
            if status == "closed" and closed[pk]:
                change(pk, None, closed[pk], "resolved", "closed")
    TicketEvent.objects.bulk_create(events, batch_size=10_000)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE tickets_ticketevent")
    return True


def _outages(now: datetime) -> bool:
    """Outages over the last two months on every service, some scoped to customers."""
    from contracts.models import ContractLine, Service
    from outages.models import Outage

    if Outage.objects.exists():
        return False
    rng = random.Random(SEED)
    services = list(Service.objects.order_by("pk"))
    holders: dict[int, list[int]] = {}
    for service, customer in ContractLine.objects.values_list(
        "service_id", "contract__customer_id"
    ):
        holders.setdefault(service, []).append(customer)
    start = datetime(now.year, now.month, 1, tzinfo=UTC) - timedelta(days=31)
    start = start.replace(day=1, hour=6)
    span = int((now - timedelta(hours=6) - start).total_seconds())
    categories = {"internal": 70, "third_party": 12, "scheduled_maintenance": 10}
    categories |= {"performance_degradation": 8}
    outages, scopes = [], []
    for n in range(OUTAGES):
        service = services[n % len(services)]
        category = rng.choices(list(categories), weights=list(categories.values()))[0]
        started = start + timedelta(seconds=rng.randrange(span))
        end = started + timedelta(minutes=rng.choice([2, 4, 8, 15, 30]))
        outage = Outage(service=service, started_at=started, ended_at=end, category=category)
        outage.confirmed_at = started + timedelta(minutes=rng.choice([0, 2, 5]))
        if category == "scheduled_maintenance":
            outage.announced_at = started - timedelta(days=3)
        outage.title = f"{service.name} {category.replace('_', ' ')} #{n}"
        scoped = rng.random() < SCOPED_SHARE
        outage.scope = Outage.Scope.CUSTOMERS if scoped else Outage.Scope.ALL
        outages.append(outage)
        pool = holders.get(service.pk, [])
        scopes.append(rng.sample(pool, min(len(pool), rng.randint(5, 60))) if scoped else [])
    through = Outage.customers.through
    pairs = zip(Outage.objects.bulk_create(outages), scopes, strict=True)
    through.objects.bulk_create(
        through(outage_id=o.pk, customer_id=c) for o, ids in pairs for c in ids
    )
    return True


def last_month(now: datetime) -> date:
    return (now.date().replace(day=1) - timedelta(days=1)).replace(day=1)


def _statements(now: datetime) -> bool:
    """Last month's statements for every contract, as the monthly run makes them."""
    from statements.models import Statement, StatementRunItem
    from statements.services.runs import batch_size, statement_run_item_process, statements_plan

    if Statement.objects.exists():
        return False
    run = statements_plan(month=last_month(now), trigger="schedule", now=now, dispatch=False)
    items = list(run.items.order_by("pk").values_list("pk", flat=True))
    for item in items[:: batch_size(run.planned)]:
        statement_run_item_process(item_id=item, now=now)
    failed = run.items.exclude(status=StatementRunItem.Status.DONE).count()
    if failed:
        sys.exit(f"{failed} statements of the data set failed")
    return True


def _pdfs_and_files(now: datetime, customers: set[int], people: dict[int, list]) -> None:
    """PDFs of the statements of ``customers`` (stored as the run stores them), and
    ``FILES_PER_PERSON`` files on tickets of each planned person's customer."""
    from django.core.files.base import ContentFile

    from statements.models import Statement
    from statements.services.delivery import statement_render
    from tickets.models import Attachment

    owed = Statement.objects.filter(contract__customer_id__in=customers, pdf="")
    owed = owed.exclude(status=Statement.Status.DRAFT).values_list("pk", flat=True)
    for pk in owed:
        statement_render(statement_id=pk, now=now)
    with_files = set(Attachment.objects.values_list("ticket__customer_id", flat=True).distinct())
    log = b"2026-11-30T10:00:01Z export worker 3: timeout after 30 s\n" * 200
    for customer, tickets in people.items():
        if customer in with_files:
            continue
        for pk in tickets[:FILES_PER_PERSON]:
            row = Attachment(ticket_id=pk, filename="export.log", content_type="text/plain")
            row.size, row.created_at = len(log), now
            row.file.save("export.log", ContentFile(log), save=True)


# ---------------------------------------------------------------- the plan


def write_plan(path: Path, now: datetime) -> dict[str, Any]:
    """Who the Locust users are and what each may open, as JSON for the locustfile:
    people drawn with weight √(their customer's tickets), busier customers being busier
    on the portal, each with a sample of their organisation's tickets, files and
    statement PDFs; the agents; API tokens (knox, as ``POST /api/v1/token/`` issues
    them) for people and agents; the desk's deep pages (50 pages in, by its ``after``
    link, and the last) and the customer names agents search for."""
    import math

    from django.db.models import Count
    from knox.models import AuthToken

    from contracts.models import User
    from slaportal.pages import PAGE_SIZE
    from statements.models import Statement
    from tickets.models import Attachment, Ticket

    rng = random.Random(SEED)
    sizes = dict(Ticket.objects.values_list("customer_id").annotate(n=Count("id")).order_by())
    people = list(User.objects.filter(customer__isnull=False).values_list("username", "customer"))
    weights = [sizes.get(customer, 0) ** 0.5 for _, customer in people]
    chosen = rng.choices(people, weights=weights, k=PLAN_PEOPLE)
    samples = {}
    for customer in sorted({c for _, c in chosen}):
        ids = list(Ticket.objects.filter(customer_id=customer).values_list("pk", flat=True))
        samples[customer] = rng.sample(ids, min(PLAN_TICKETS, len(ids)))
    _pdfs_and_files(now, set(samples), samples)
    files: dict[int, list] = {}
    for pk, ticket, customer in Attachment.objects.filter(
        ticket__customer_id__in=samples, message__isnull=True
    ).values_list("pk", "ticket_id", "ticket__customer_id"):
        files.setdefault(customer, []).append([ticket, pk])
    pdfs: dict[int, list] = {}
    stored = Statement.objects.filter(contract__customer_id__in=samples).exclude(pdf="")
    for pk, customer in stored.values_list("pk", "contract__customer_id"):
        pdfs.setdefault(customer, []).append(pk)
    agents = list(User.objects.filter(groups__name="agent").values_list("username", flat=True))
    AuthToken.objects.all().delete()  # the bench's own database: only its tokens
    plan: dict[str, Any] = {"password": PASSWORD, "mark": MARK, "agents": agents}
    plan["people"] = [
        {
            "username": username,
            "tickets": samples[customer],
            "pages": max(1, math.ceil(sizes.get(customer, 0) / PAGE_SIZE)),
            "files": files.get(customer, []),
            "statements": pdfs.get(customer, []),
        }
        for username, customer in chosen
        if samples[customer]
    ]
    api_people = rng.sample(plan["people"], API_CLIENTS)
    plan["api"] = {
        "people": [
            {"token": _token(AuthToken, p["username"]), "tickets": p["tickets"]} for p in api_people
        ],
        "agents": [_token(AuthToken, a) for a in agents],
    }
    plan["desk_deep"] = _deep_desk(agents[0])
    plan["customer_searches"] = list(tickets_bench.SEARCHES.values())
    path.write_text(json.dumps(plan))
    tickets = sorted(sizes[c] for _, c in chosen)
    return {
        "people": len(plan["people"]),
        "their_customers_median_tickets": tickets[len(tickets) // 2],
        "people_with_statement_pdfs": sum(1 for p in plan["people"] if p["statements"]),
        "people_with_files": sum(1 for p in plan["people"] if p["files"]),
        "api_tokens": len(plan["api"]["people"]) + len(plan["api"]["agents"]),
    }


def _token(model, username: str) -> str:
    from contracts.models import User

    return model.objects.create(user=User.objects.get(username=username))[1]


def _deep_desk(agent: str) -> list[str]:
    """The desk with every status, 50 pages in (by its next links) and its last page."""
    from django.test import Client

    from contracts.models import User

    client = Client()
    client.force_login(User.objects.get(username=agent))
    query = "status=all"
    for _ in range(49):
        found = AFTER.search(client.get(f"/desk/?{query}").content.decode())
        if not found:
            break
        query = found.group(1).replace("&amp;", "&")
    client.logout()
    return [f"/desk/?{query}", "/desk/?status=all&before=end"]


def remove_written() -> int:
    """Remove what a run wrote: filed tickets and messages (with their files), sessions."""
    from django.contrib.sessions.models import Session

    from tickets.models import Ticket, TicketMessage

    Session.objects.all().delete()  # the bench's own database: only its users' sessions
    removed = TicketMessage.objects.filter(body__startswith=MARK).delete()[0]
    return removed + Ticket.objects.filter(description__startswith=MARK).delete()[0]


def data_set() -> dict[str, Any]:
    from django.db.models import Count

    from contracts.models import Customer, User
    from outages.models import Outage
    from statements.models import Statement
    from tickets.models import Attachment, Ticket, TicketEvent, TicketMessage

    sizes = sorted(Customer.objects.annotate(n=Count("tickets")).values_list("n", flat=True))
    return {
        "customers": len(sizes),
        "customer_people": User.objects.filter(customer__isnull=False).count(),
        "agents": User.objects.filter(groups__name="agent").count(),
        "tickets": sum(sizes),
        "open_tickets": Ticket.objects.filter(status__in=Ticket.OPEN_STATUSES).count(),
        "messages": TicketMessage.objects.count(),
        "ticket_events": TicketEvent.objects.count(),
        "attachments": Attachment.objects.count(),
        "outages": Outage.objects.count(),
        "statements": Statement.objects.count(),
        "statement_pdfs": Statement.objects.exclude(pdf="").count(),
        "tickets_per_customer": {"largest": sizes[-1], "median": sizes[len(sizes) // 2]}
        | {"smallest": sizes[0], "top_10_share": round(sum(sizes[-10:]) / sum(sizes), 3)},
    }
