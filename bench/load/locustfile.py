"""Locust users for ``bench/load.py`` (run by it; not a bench of its own).

Customer people (ticket list, one of their organisation's tickets, filing a ticket through
the real form) and support agents (the desk queue, filtered, a ticket from it). Each user
signs in through the login form first; the measured window starts once every user has
signed in (statistics reset then) and lasts ``LOAD_DURATION`` seconds, so the PBKDF2
logins are not in the figures (their count and failures are reported apart). A response
that is not the expected status or lacks the expected text is a failure.

Settings come from the environment: ``LOAD_PLAN`` (JSON from bench/load.py: who signs
in, which tickets each may open), ``LOAD_THINK`` (mean think time, s; 0 for none),
``LOAD_DURATION`` (s) and ``LOAD_STATS`` (where the raw statistics go as JSON).
"""

from __future__ import annotations

import json
import os
import random
import re
import time
from pathlib import Path

import gevent
from gevent.event import Event
from locust import HttpUser, between, constant, events, task
from locust.exception import StopUser

PLAN = json.loads(Path(os.environ["LOAD_PLAN"]).read_text())
THINK = float(os.environ.get("LOAD_THINK", "1"))
DURATION = float(os.environ.get("LOAD_DURATION", "60"))
STATS = os.environ["LOAD_STATS"]
MARK = PLAN["mark"]  # filed tickets carry it, so bench/load.py can remove them

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
SERVICE_OPTIONS = re.compile(r'<option value="(\d+)"')
DESK_LINK = re.compile(r'href="/desk/tickets/(\d+)/"')
FILED = re.compile(r"^/portal/tickets/(\d+)/$")
QUEUE_FILTERS = ("severity=1", "assignee=none", "breached=on", "status=waiting_on_customer")

READY = Event()  # every user has signed in: the measured window is open
STATE = {"signed_in": 0, "login_failures": [], "logins": {}, "window_start": None}
STATE["window_end"] = None


def _signed_in(environment, failure: str | None = None) -> None:
    STATE["signed_in"] += 1
    if failure:
        STATE["login_failures"].append(failure)
    if STATE["signed_in"] >= environment.parsed_options.num_users and not READY.is_set():
        STATE["logins"] = {
            name: {
                "requests": entry.num_requests,
                "failures": entry.num_failures,
                "p50_ms": entry.get_response_time_percentile(0.5),
                "p95_ms": entry.get_response_time_percentile(0.95),
                "max_ms": entry.max_response_time,
            }
            for (name, _method), entry in environment.stats.entries.items()
            if name.startswith("login")
        }
        environment.stats.reset_all()
        STATE["window_start"] = time.time()
        READY.set()
        gevent.spawn_later(DURATION, _stop, environment)


def _stop(environment) -> None:
    STATE["window_end"] = time.time()
    environment.runner.quit()


def _think():
    return between(THINK / 2, THINK * 3 / 2) if THINK else constant(0)


class SignedIn(HttpUser):
    abstract = True
    wait_time = _think()

    def sign_in(self, username: str) -> None:
        failure = None
        form = self.client.get("/accounts/login/", name="login: form")
        token = CSRF.search(form.text or "")
        if form.status_code != 200 or not token:
            failure = f"login form: HTTP {form.status_code}"
        else:
            response = self.client.post(
                "/accounts/login/",
                {
                    "csrfmiddlewaretoken": token.group(1),
                    "username": username,
                    "password": PLAN["password"],
                    "next": "",
                },
                name="login: submit",
                allow_redirects=False,
            )
            where = response.headers.get("Location", "")
            if response.status_code != 302 or "login" in where:
                failure = f"login of {username}: HTTP {response.status_code} → {where!r}"
        _signed_in(self.environment, failure)
        if failure:
            raise StopUser
        READY.wait()
        gevent.sleep(random.uniform(0, THINK))  # spread the first requests like later ones

    def page(self, path: str, name: str, expect: str):
        """GET ``path``; a failure unless 200 with ``expect`` in the body."""
        with self.client.get(path, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
            elif expect not in response.text:
                response.failure(f"{expect!r} missing from {path}")
            return response


class CustomerPerson(SignedIn):
    """A customer person: their organisation's list, a ticket page, now and then a new
    ticket. People of bigger customers are likelier (bench/load.py's plan)."""

    weight = 4

    def on_start(self) -> None:
        self.person = random.choice(PLAN["people"])
        self.sign_in(self.person["username"])

    @task(4)
    def ticket_list(self) -> None:
        self.page("/portal/tickets/", "portal: ticket list", "Support tickets")

    @task(1)
    def ticket_list_open(self) -> None:
        self.page("/portal/tickets/?state=open", "portal: ticket list, open", "Support tickets")

    @task(4)
    def ticket_page(self) -> None:
        pk = random.choice(self.person["tickets"])
        self.page(f"/portal/tickets/{pk}/", "portal: ticket page", f"T-{pk:06d}")

    @task(1)
    def file_ticket(self) -> None:
        form = self.page("/portal/tickets/new/", "portal: new ticket form", "File a ticket")
        token, services = CSRF.search(form.text or ""), SERVICE_OPTIONS.findall(form.text or "")
        if not token or not services:
            return  # the form's request is already a failure, or the page lacks a field
        data = {
            "csrfmiddlewaretoken": token.group(1),
            "subject": f"Load test: export stalls ({random.randrange(10**6):06d})",
            "service": random.choice(services),
            "severity": random.choice(["2", "3", "3", "4", "4"]),
            "description": f"{MARK} The nightly export stops half-way; it started today.",
        }
        with self.client.post(
            "/portal/tickets/new/",
            data,
            name="portal: file ticket",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            where = response.headers.get("Location", "")
            if response.status_code != 302 or not FILED.match(where):
                response.failure(f"HTTP {response.status_code} → {where!r} (form refused?)")


class Agent(SignedIn):
    """A support agent: the queue, a filtered queue, a ticket from the queue."""

    weight = 1

    def on_start(self) -> None:
        self.seen: list[str] = []
        self.sign_in(random.choice(PLAN["agents"]))

    def queue(self, query: str, name: str) -> None:
        response = self.page(f"/desk/{query}", name, "Ticket queue")
        self.seen = DESK_LINK.findall(response.text or "") or self.seen

    @task(3)
    def open_queue(self) -> None:
        self.queue("", "desk: queue")

    @task(2)
    def filtered_queue(self) -> None:
        self.queue(f"?{random.choice(QUEUE_FILTERS)}", "desk: queue, filtered")

    @task(2)
    def ticket_page(self) -> None:
        if not self.seen:
            return self.open_queue()
        pk = int(random.choice(self.seen))
        self.page(f"/desk/tickets/{pk}/", "desk: ticket page", f"T-{pk:06d}")


@events.quitting.add_listener
def dump(environment, **_kwargs) -> None:
    """The raw figures for bench/load.py: per request type a histogram of response times
    (ms, as Locust rounds them), counts, failures; the window's start and end."""
    stats = environment.stats
    entries = {
        name: {
            "method": entry.method,
            "requests": entry.num_requests,
            "failures": entry.num_failures,
            "total_ms": entry.total_response_time,
            "max_ms": entry.max_response_time,
            "response_times": {str(ms): n for ms, n in entry.response_times.items()},
        }
        for (name, _method), entry in stats.entries.items()
    }
    errors = [
        {"name": e.name, "method": e.method, "error": str(e.error), "count": e.occurrences}
        for e in stats.errors.values()
    ]
    end = STATE["window_end"] or time.time()
    report = {
        "window_start": STATE["window_start"],
        "window_seconds": end - STATE["window_start"] if STATE["window_start"] else None,
        "signed_in": STATE["signed_in"],
        "login_failures": STATE["login_failures"],
        "logins": STATE["logins"],
        "entries": entries,
        "errors": errors,
    }
    Path(STATS).write_text(json.dumps(report))
