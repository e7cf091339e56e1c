"""The open-loop engine of bench/load/locustfile.py (see its docstring): settings from
the environment, the measured window, and ``OpenLoop``, a Locust user whose actions
arrive on a Poisson clock. Not a locustfile itself."""

from __future__ import annotations

import json
import os
import random
import re
import time
from pathlib import Path

import gevent
from gevent.event import Event
from gevent.local import local
from locust import FastHttpUser, constant, task
from locust.contrib.fasthttp import FastHttpSession
from locust.exception import StopUser
from urllib3 import encode_multipart_formdata

PLAN = json.loads(Path(os.environ["LOAD_PLAN"]).read_text())
INTERVAL = float(os.environ.get("LOAD_INTERVAL", "1"))
DURATION = float(os.environ.get("LOAD_DURATION", "60"))
VISIT = float(os.environ.get("LOAD_VISIT", "60"))
STATS = os.environ["LOAD_STATS"]
MARK = PLAN["mark"]  # what the run writes carries it, so bench/load.py can remove it

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
FORM_ERROR = re.compile(r'class="errorlist[^"]*"[^>]*>\s*<li>([^<]+)<')
LOG = b"2026-12-01T09:00:00Z export worker 2: timeout after 30 s\n" * 40

READY = Event()  # every user has signed in: the measured window is open
STATE = {"signed_in": 0, "login_failures": [], "first_logins": {}, "window_start": None}
STATE |= {"window_end": None, "arrivals": 0, "in_flight": 0, "in_flight_max": 0, "conflicts": 0}


def _signed_in(environment, failure: str | None = None) -> None:
    STATE["signed_in"] += 1
    if failure:
        STATE["login_failures"].append(failure)
    if STATE["signed_in"] >= environment.parsed_options.num_users and not READY.is_set():
        STATE["first_logins"] = _entries(environment.stats)
        environment.stats.reset_all()
        STATE["window_start"] = time.time()
        READY.set()
        gevent.spawn_later(DURATION, _stop, environment)


def _entries(stats) -> dict:
    return {
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


def _stop(environment) -> None:
    """Close the window: the figures are what completed inside it; what is still in
    flight then is reported (a backlog is what overload looks like)."""
    STATE["window_end"] = time.time()
    stats = environment.stats
    errors = [
        {"name": e.name, "method": e.method, "error": str(e.error), "count": e.occurrences}
        for e in stats.errors.values()
    ]
    report = {
        k: STATE[k]
        for k in (
            "signed_in",
            "login_failures",
            "first_logins",
            "arrivals",
            "window_start",
            "conflicts",
        )
    }
    report |= {"in_flight_at_end": STATE["in_flight"], "in_flight_max": STATE["in_flight_max"]}
    report |= {"window_seconds": STATE["window_end"] - STATE["window_start"]}
    report |= {"entries": _entries(stats), "errors": errors}
    Path(STATS).write_text(json.dumps(report))
    environment.runner.quit()


class OpenLoop(FastHttpUser):
    """A session whose actions arrive on a Poisson clock (see the module's docstring)."""

    abstract = True
    wait_time = constant(0)
    concurrency = 50  # requests of one session in flight at once: overload may queue
    network_timeout = connection_timeout = 120.0
    actions: dict[str, int] = {}  # method name → weight
    signs_in = True

    def on_start(self) -> None:
        self._here = local()  # each action's own session (see ``session``)
        self.client.client.redirect_response_codes = frozenset()  # see ``post_form``
        if self.signs_in:
            failure = self.sign_in(self.client, "login")
            _signed_in(self.environment, failure)
            if failure:
                raise StopUser
        else:
            _signed_in(self.environment)
        READY.wait()

    def sign_in(self, client, name: str) -> str | None:
        """Through the login form; a failure's description, or None."""
        form = client.get("/accounts/login/", name=f"{name}: form")
        token = CSRF.search(form.text or "")
        if form.status_code != 200 or not token:
            return f"login form: HTTP {form.status_code}"
        fields = {"csrfmiddlewaretoken": token.group(1), "username": self.username}
        fields |= {"password": PLAN["password"], "next": ""}
        response = client.post(
            "/accounts/login/", data=fields, name=f"{name}: submit", allow_redirects=False
        )
        where = response.headers.get("Location", "") if response.headers else ""
        if response.status_code != 302 or "login" in where:
            return f"login of {self.username}: HTTP {response.status_code} → {where!r}"
        return None

    @task
    def arrive(self) -> None:
        names, weights = list(self.actions), list(self.actions.values())
        while True:
            gevent.sleep(random.expovariate(1 / INTERVAL))
            if STATE["window_end"]:
                return
            STATE["arrivals"] += 1
            if self.signs_in and random.random() < 1 / VISIT:
                gevent.spawn(self._act, self.new_visit)
            else:
                action = random.choices(names, weights=weights)[0]
                gevent.spawn(self._act, getattr(self, action))

    @property
    def session(self):
        """The session an action started with: a new visit replaces ``self.client`` for
        the actions after it, never under one in progress."""
        return getattr(self._here, "client", self.client)

    def _act(self, action) -> None:
        self._here.client = self.client
        STATE["in_flight"] += 1
        STATE["in_flight_max"] = max(STATE["in_flight_max"], STATE["in_flight"])
        try:
            action()
        except Exception as exc:  # noqa: BLE001 — the load test counts it and goes on
            self.environment.events.request.fire(
                request_type="ACTION",
                name=action.__name__,
                response_time=0,
                response_length=0,
                exception=exc,
                context={},
            )
        finally:
            STATE["in_flight"] -= 1

    def new_visit(self) -> None:
        """A new visit: a fresh session signs in; later actions use it."""
        client = FastHttpSession(
            self.host,
            self.environment.events.request,
            self,
            concurrency=self.concurrency,
            network_timeout=120.0,
            connection_timeout=120.0,
        )
        client.client.redirect_response_codes = frozenset()
        failure = self.sign_in(client, "login (new visit)")
        if failure:
            raise RuntimeError(failure)
        self.client = client

    def page(self, path: str, name: str, expect: str | bytes, *, client=None):
        """GET ``path``; a failure unless 200 with ``expect`` in the body."""
        with (client or self.session).get(path, name=name, catch_response=True) as response:
            text = isinstance(expect, str)
            body = (response.text or "") if text else (response.content or b"")
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
            elif expect not in body:
                response.failure(f"{expect!r} missing from {path}")
            return response

    def post_form(
        self,
        path: str,
        name: str,
        fields: dict,
        *,
        done: re.Pattern,
        files: bool = False,
        conflict: str | None = None,
    ) -> None:
        """POST a form as a browser does; a failure unless it redirects to ``done``,
        which is then fetched (the browser follows the redirect). A refusal that says
        ``conflict`` (someone changed the record between page and post, and the form
        says so) is counted apart, not as a failure. Sessions never follow redirects
        themselves: Locust's ``allow_redirects=False`` switches a setting of the whole
        session, which concurrent requests of an open loop would race on."""
        headers = {}
        body: object = fields
        if files:
            body, headers["Content-Type"] = encode_multipart_formdata(
                list(fields.items()) + [("attachments", ("export.log", LOG, "text/plain"))]
            )
        client = self.session
        with client.post(
            path, data=body, headers=headers, name=name, allow_redirects=False, catch_response=True
        ) as response:
            where = (response.headers or {}).get("Location", "")
            if response.status_code != 302 or not done.match(where):
                said = (
                    FORM_ERROR.search(response.text or "") if response.status_code == 200 else None
                )
                reason = said.group(1).strip() if said else where
                if conflict and conflict in reason:
                    STATE["conflicts"] += 1
                    return
                response.failure(f"HTTP {response.status_code} → {reason!r}")
                return
        self.page(where, f"{name}: the page after", "", client=client)
