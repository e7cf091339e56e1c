"""Locust users for ``bench/load.py`` (run by it; not a bench of its own).

Open loop: each user is a session whose actions arrive as a Poisson process (mean gap
``LOAD_INTERVAL`` s), each started when it arrives whether or not the previous one has
finished — so a slow server meets a growing crowd of requests, as it would in the world,
instead of being given time to catch up. An action is what a person does with one click:
one request, or a page and the form posted from it (a browser then follows the redirect).

- Customer people: the portal landing page, their ticket list (open, searched, a deep
  numbered page), a ticket page, a reply (one in four with a file), a file, the statement
  list and a statement PDF, a new ticket through the form.
- Agents: the desk queue (filtered, searched by customer name, 50 pages in or the last
  page), a ticket page, a reply or internal note, a status change.
- API clients with tokens: people (list, next pages by the cursor, a ticket, its
  messages, a reply) and agents (the staff list newest first, its next pages, a ticket).

Sign-ins are counted: every user signs in through the form before the window opens
(reported apart, as ``first_logins``), and during the window one action in ``LOAD_VISIT``
is a new visit — a fresh session signing in — whose two requests are in the figures.
A response that is not the expected status or lacks the expected text is a failure.

Environment: ``LOAD_PLAN`` (JSON from bench/load.py), ``LOAD_INTERVAL``, ``LOAD_DURATION``,
``LOAD_VISIT``, ``LOAD_STATS`` (where the raw statistics go as JSON).
"""

from __future__ import annotations

import random
import re
from urllib.parse import urlsplit

from openloop import CSRF, MARK, PLAN, OpenLoop

SERVICE_OPTIONS = re.compile(r'<option value="(\d+)"')
STATUS_SELECT = re.compile(r'<select name="status"[^>]*>(.*?)</select>', re.S)
DESK_LINK = re.compile(r'href="/desk/tickets/(\d+)/"')
QUEUE_FILTERS = ("severity=1", "assignee=none", "breached=on", "status=waiting_on_customer")
SEARCH_WORDS = ("editor", "publishing", "search", "api", "reports", "sync")


class CustomerPerson(OpenLoop):
    weight = 6
    actions = {
        "landing": 3,
        "ticket_list": 4,
        "list_variant": 3,
        "ticket_page": 5,
        "reply": 1,
        "file_download": 1,
        "statement_pdf": 1,
        "file_ticket": 1,
    }

    def on_start(self) -> None:
        self.person = random.choice(PLAN["people"])
        self.username = self.person["username"]
        super().on_start()

    def landing(self) -> None:
        self.page("/portal/", "portal: landing", "Availability this month so far")

    def ticket_list(self) -> None:
        self.page("/portal/tickets/", "portal: ticket list", "Support tickets")

    def list_variant(self) -> None:
        pages = self.person["pages"]
        choice = random.randrange(3)
        if choice == 0:
            self.page("/portal/tickets/?state=open", "portal: ticket list, open", "Support tickets")
        elif choice == 1:
            word = random.choice(SEARCH_WORDS)
            self.page(f"/portal/tickets/?q={word}", "portal: ticket search", "Support tickets")
        else:
            number = random.randint(min(2, pages), pages)
            self.page(
                f"/portal/tickets/?page={number}",
                "portal: ticket list, deep page",
                "Support tickets",
            )

    def ticket_page(self) -> None:
        pk = random.choice(self.person["tickets"])
        return self.page(f"/portal/tickets/{pk}/", "portal: ticket page", f"T-{pk:06d}"), pk

    def reply(self) -> None:
        response, pk = self.ticket_page()
        token = CSRF.search(response.text or "")
        if not token or f'action="/portal/tickets/{pk}/reply/"' not in (response.text or ""):
            return  # a closed ticket takes no reply: the page was the action
        fields = {
            "csrfmiddlewaretoken": token.group(1),
            "body": f"{MARK} The export still stops at 10:00; log attached if any.",
        }
        self.post_form(
            f"/portal/tickets/{pk}/reply/",
            "portal: reply",
            fields,
            done=re.compile(rf"^/portal/tickets/{pk}/"),
            files=random.random() < 0.25,
        )

    def file_download(self) -> None:
        if not self.person["files"]:
            return self.ticket_page()
        ticket, pk = random.choice(self.person["files"])
        self.page(f"/portal/tickets/{ticket}/files/{pk}/", "portal: file download", b"timeout")

    def statement_pdf(self) -> None:
        self.page("/portal/statements/", "portal: statements", "Statements")
        if not self.person["statements"]:
            return
        pk = random.choice(self.person["statements"])
        self.page(f"/portal/statements/{pk}/pdf/", "portal: statement PDF", b"%PDF-")

    def file_ticket(self) -> None:
        form = self.page("/portal/tickets/new/", "portal: new ticket form", "File a ticket")
        token, services = CSRF.search(form.text or ""), SERVICE_OPTIONS.findall(form.text or "")
        if not token or not services:
            return
        fields = {
            "csrfmiddlewaretoken": token.group(1),
            "subject": f"Load test: export stalls ({random.randrange(10**6):06d})",
            "service": random.choice(services),
            "severity": random.choice(["2", "3", "3", "4", "4"]),
            "description": f"{MARK} The nightly export stops half-way; it started today.",
        }
        self.post_form(
            "/portal/tickets/new/",
            "portal: file ticket",
            fields,
            done=re.compile(r"^/portal/tickets/\d+/$"),
        )


class Agent(OpenLoop):
    weight = 2
    actions = {
        "queue": 3,
        "filtered": 2,
        "search": 1,
        "deep": 1,
        "ticket_page": 3,
        "reply": 1,
        "status": 1,
    }

    started = 0  # agents so far: each changes the status of its own share of tickets only

    def on_start(self) -> None:
        self.seen: list[str] = []
        self.username = random.choice(PLAN["agents"])
        self.share, Agent.started = Agent.started, Agent.started + 1
        super().on_start()

    def _queue(self, query: str, name: str) -> None:
        response = self.page(f"/desk/{query}", name, "Ticket queue")
        self.seen = DESK_LINK.findall(response.text or "") or self.seen

    def queue(self) -> None:
        self._queue("", "desk: queue")

    def filtered(self) -> None:
        self._queue(f"?{random.choice(QUEUE_FILTERS)}", "desk: queue, filtered")

    def search(self) -> None:
        word = random.choice(PLAN["customer_searches"])
        self._queue(f"?customer={word}", "desk: customer search")

    def deep(self) -> None:
        url = random.choice(PLAN["desk_deep"])
        self.page(url, "desk: every status, page 50 or last", "Ticket queue")

    def ticket_page(self, mine: bool = False):
        seen = (
            [pk for pk in self.seen if int(pk) % Agent.started == self.share] if mine else self.seen
        )
        if not seen:
            return self.queue(), None
        pk = int(random.choice(seen))
        return self.page(f"/desk/tickets/{pk}/", "desk: ticket page", f"T-{pk:06d}"), pk

    def reply(self) -> None:
        response, pk = self.ticket_page()
        token = pk and CSRF.search(response.text or "")
        if not token:
            return
        fields = {
            "csrfmiddlewaretoken": token.group(1),
            "kind": random.choice(["public", "internal"]),
            "body": f"{MARK} Could you send the log of the failing export?",
        }
        self.post_form(
            f"/desk/tickets/{pk}/reply/",
            "desk: reply",
            fields,
            done=re.compile(rf"^/desk/tickets/{pk}/"),
        )

    def status(self) -> None:
        """Two agents changing one ticket at once would find it changed under them (the
        form says so): each takes its own share of the queue."""
        response, pk = self.ticket_page(mine=True)
        token = pk and CSRF.search(response.text or "")
        select = pk and STATUS_SELECT.search(response.text or "")
        if not token or not select:
            return
        offered = {"open", "waiting_on_customer"} & set(
            re.findall(r'value="(\w+)"', select.group(1))
        )
        if not offered:
            return
        fields = {"csrfmiddlewaretoken": token.group(1), "status": random.choice(sorted(offered))}
        self.post_form(
            f"/desk/tickets/{pk}/status/",
            "desk: status change",
            fields,
            done=re.compile(rf"^/desk/tickets/{pk}/"),
            conflict="is not one of the available choices",  # a customer's reply reopened it
        )


class ApiClient(OpenLoop):
    """A script with a token: half of them a customer's, half an agent's."""

    weight = 2
    signs_in = False
    actions = {"listing": 3, "next_page": 2, "ticket": 3, "messages": 1, "reply": 1}

    def on_start(self) -> None:
        self.next: str | None = None
        if random.random() < 0.5:
            person = random.choice(PLAN["api"]["people"])
            self.token, self.tickets, self.staff = person["token"], person["tickets"], False
        else:
            self.token, self.tickets, self.staff = random.choice(PLAN["api"]["agents"]), [], True
        self.username = "api"
        super().on_start()

    def api(
        self,
        path: str,
        name: str,
        *,
        method: str = "GET",
        body: dict | None = None,
        expect: int = 200,
    ) -> dict | None:
        who = "agent" if self.staff else "customer"
        headers = {"Authorization": f"Token {self.token}", "Accept": "application/json"}
        with self.session.request(
            method,
            path,
            headers=headers,
            json=body,
            name=f"api ({who}): {name}",
            catch_response=True,
        ) as response:
            if response.status_code != expect:
                response.failure(f"HTTP {response.status_code}: {(response.text or '')[:200]}")
                return None
            return response.json()

    def listing(self) -> None:
        query = random.choice(["", "?ordering=due"]) if self.staff else ""
        found = self.api(f"/api/v1/tickets/{query}", "ticket list")
        if found:
            self.next = found.get("next")
            self.tickets = self.tickets if not self.staff else [t["id"] for t in found["results"]]

    def next_page(self) -> None:
        if not self.next:
            return self.listing()
        link = urlsplit(self.next)
        found = self.api(f"{link.path}?{link.query}", "ticket list, next page")
        self.next = found.get("next") if found else None

    def ticket(self) -> None:
        if not self.tickets:
            return self.listing()
        self.api(f"/api/v1/tickets/{random.choice(self.tickets)}/", "ticket")

    def messages(self) -> None:
        if not self.tickets:
            return self.listing()
        self.api(f"/api/v1/tickets/{random.choice(self.tickets)}/messages/", "messages")

    def reply(self) -> None:
        if not self.tickets:
            return self.listing()
        pk = random.choice(self.tickets)
        ticket = self.api(f"/api/v1/tickets/{pk}/", "ticket")
        if not ticket or ticket.get("status") == "closed":
            return
        body = {"body": f"{MARK} Posted by the nightly check: the export failed again."}
        if self.staff:
            body["public"] = False
        self.api(f"/api/v1/tickets/{pk}/messages/", "reply", method="POST", body=body, expect=201)
