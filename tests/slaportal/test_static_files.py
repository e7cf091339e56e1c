"""Pages keep their styles with DEBUG off and gunicorn alone (README, "Production runbook"):
WhiteNoise serves the static files from STATIC_ROOT under hashed names, compressed (br or
gzip, as the browser asks) and cached for a year, since a new version has a new name.

The production path for real, no test settings and no Django test server: the release
line's `manage.py migrate` (into an SQLite file) and `manage.py collectstatic` (into a
temporary STATIC_ROOT), then `gunicorn slaportal.wsgi` in a process of its own with DEBUG
off, on the test's clock (tests/support/clock.py). Plain HTTP on loopback: the TLS proxy
of production is left out, so the HTTPS redirect and secure cookies are turned off. The
image's health check (deploy/healthcheck.py) is tried against the same gunicorn.
"""

from __future__ import annotations

import gzip
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import brotli
import pytest

from tests.support.browser import TIMEOUT_MS, VIEWPORT, screenshot
from tests.support.clock import suite_now

# Real processes, whose clock runs on from the suite's instant.
pytestmark = pytest.mark.ticking

ROOT = Path(__file__).resolve().parents[2]
ONE_YEAR = 365 * 24 * 3600
HASHED_STYLESHEET = re.compile(r"/static/css/[\w-]+\.[0-9a-f]{12}\.css")
PAGES = ["/accounts/login/", "/status/"]


@dataclass
class Served:
    url: str
    port: int
    log: Path


def _on_test_clock(*args: str) -> list[str]:
    """``python ARGS`` on the suite's clock (tests/support/clock.py), not the real one."""
    return [sys.executable, "-m", "tests.support.clock", suite_now().isoformat(), *args]


def production_env(tmp: Path) -> dict[str, str]:
    """Production settings (slaportal.settings, DEBUG off) and nothing of the test run's:
    no test settings module, no DATABASE_URL or broker of CI's."""
    inherited = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "TMPDIR") if k in os.environ}
    return {
        **inherited,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "SECURE_HSTS_SECONDS": "0",
        "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
        "STATIC_ROOT": str(tmp / "static"),
        "VAR_DIR": str(tmp / "var"),
    }


def _release(env: dict[str, str], tmp: Path) -> None:
    """The release line's migrate and collectstatic, side by side (each takes a while)."""
    steps = {
        name: subprocess.Popen(
            _on_test_clock("manage.py", *args),
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for name, args in {
            "migrate": ("migrate", "--no-input", "-v0"),
            # All but the API docs' and the browsable API's vendored bundles (35 MB, most
            # of collectstatic's CPU minute, compressing them): these pages use none.
            "collectstatic": (
                "collectstatic",
                "--no-input",
                "-v0",
                "--ignore=drf_spectacular_sidecar",
                "--ignore=rest_framework",
            ),
        }.items()
    }
    for name, process in steps.items():
        output, _ = process.communicate(timeout=300)
        assert process.returncode == 0, f"{name} failed:\n{output}"
    assert (tmp / "static" / "staticfiles.json").is_file()


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("gunicorn")
    env = production_env(tmp)
    _release(env, tmp)
    log_path = tmp / "gunicorn.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            _on_test_clock(
                "-m",
                "gunicorn",
                "slaportal.wsgi",
                "--workers",
                "2",
                # Port 0: the system picks a free one; gunicorn logs which.
                "--bind",
                "127.0.0.1:0",
                "--graceful-timeout",
                "5",
                "--access-logfile",
                "-",
            ),
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            port = _wait_until_serving(process, log_path)
            yield Served(url=f"http://127.0.0.1:{port}", port=port, log=log_path)
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_serving(process: subprocess.Popen, log_path: Path) -> int:
    deadline = time.monotonic() + 60
    port = None
    while time.monotonic() < deadline:
        assert process.poll() is None, f"gunicorn stopped:\n{log_path.read_text()}"
        if port is None:
            found = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", log_path.read_text())
            port = int(found.group(1)) if found else None
        if port is not None:
            try:
                status, _, _ = fetch(f"http://127.0.0.1:{port}", "/healthz")
            except OSError:
                status = None
            if status == 200:
                return port
        time.sleep(0.25)
    raise AssertionError(f"gunicorn did not serve within 60 s:\n{log_path.read_text()}")


def fetch(base: str, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    """GET without any decoding: the status, the headers (lower-case names), the body."""
    request = urllib.request.Request(base + path, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, _lower(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, _lower(error.headers), error.read()


def _lower(headers) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def max_age(cache_control: str) -> int:
    found = re.search(r"max-age=(\d+)", cache_control)
    return int(found.group(1)) if found else 0


def stylesheets_of(served: Served, path: str) -> list[str]:
    status, _, body = fetch(served.url, path)
    assert status == 200, path
    return re.findall(r'<link rel="stylesheet" href="([^"]+)"', body.decode())


def portal_css_colour(variable: str) -> str:
    """A colour portal.css defines (``--bg: #f5f6f8``), as a browser computes it."""
    css = (ROOT / "static" / "css" / "portal.css").read_text()
    hex_colour = re.search(rf"{variable}:\s*#([0-9a-fA-F]{{6}})\s*;", css).group(1)
    red, green, blue = (int(hex_colour[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgb({red}, {green}, {blue})"


BODY_STYLE = (
    "() => { const s = getComputedStyle(document.body); return [s.backgroundColor, s.margin]; }"
)


def downloads(served: Served, since: int) -> list[str]:
    """The stylesheets gunicorn's access log shows as sent since offset ``since``."""
    log = served.log.read_text()[since:]
    return re.findall(r'"GET (/static/css/\S+) HTTP/1\.1" 200', log)


@pytest.mark.browser
def test_pages_served_by_gunicorn_alone_load_their_stylesheets_and_are_styled(browser, served):
    context = browser.new_context(base_url=served.url, viewport=VIEWPORT, locale="en-GB")
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        # What an unstyled page looks like in this browser, to tell styles from defaults.
        page.set_content("<!doctype html><title>unstyled</title><body><p>text</p></body>")
        unstyled = page.evaluate(BODY_STYLE)

        responses, failed, refused = [], [], []
        page.on("response", lambda response: responses.append(response))
        page.on("requestfailed", lambda request: failed.append(request.url))
        page.on(
            "console",
            lambda message: (
                refused.append(message.text) if "Content Security Policy" in message.text else None
            ),
        )
        since = len(served.log.read_text())
        seen: list[str] = []
        for path in PAGES:
            responses.clear()
            assert page.goto(path).status == 200, path
            hrefs = page.eval_on_selector_all(
                'link[rel="stylesheet"]', "links => links.map(link => link.href)"
            )
            assert hrefs, f"{path} links no stylesheet"
            for href in hrefs:
                assert HASHED_STYLESHEET.search(href), f"{href} is not a hashed name"
                (response,) = [r for r in responses if r.url == href]
                assert response.status == 200, href
                headers = response.all_headers()
                assert max_age(headers.get("cache-control", "")) >= ONE_YEAR, href
                assert "immutable" in headers["cache-control"], href
                if href in seen:
                    continue  # from the browser's cache: no request, no request headers
                seen.append(href)
                # Compressed as the browser accepts: WhiteNoise's Brotli file when it
                # takes br (Chromium does, on loopback too), gzip otherwise.
                accepted = response.request.all_headers()["accept-encoding"]
                expected = "br" if "br" in accepted else "gzip"
                assert headers.get("content-encoding") == expected, href
            # Each stylesheet parsed, and the page looks as portal.css says, not as the
            # browser's defaults would.
            rules = page.evaluate(
                "() => [...document.styleSheets].map(sheet => sheet.cssRules.length)"
            )
            assert len(rules) == len(hrefs) and all(count > 0 for count in rules), path
            styled = page.evaluate(BODY_STYLE)
            assert styled == [portal_css_colour("--bg"), "0px"], path
            assert styled != unstyled
            screenshot(page, "static-files-" + path.strip("/").replace("/", "-"))
        assert failed == []
        assert refused == [], "the Content-Security-Policy refused something"
        # The second page took portal.css from the cache: each stylesheet crossed the
        # network once in the whole visit.
        sent = downloads(served, since)
        assert sorted(sent) == sorted(urlsplit(href).path for href in seen)
        assert len(seen) < sum(len(stylesheets_of(served, path)) for path in PAGES)
    finally:
        context.close()


def test_stylesheets_are_served_compressed_as_asked_and_cached_for_a_year(served):
    hrefs = {href for path in PAGES for href in stylesheets_of(served, path)}
    assert {href.split("/")[-1].split(".")[0] for href in hrefs} >= {"portal", "status"}
    for href in hrefs:
        assert HASHED_STYLESHEET.fullmatch(href), href
        bodies = {}
        for asked, served_as in [("br", "br"), ("gzip", "gzip"), ("identity", None)]:
            status, headers, body = fetch(served.url, href, **{"Accept-Encoding": asked})
            assert status == 200, (href, asked)
            assert headers.get("content-encoding") == served_as, (href, asked)
            assert headers["content-type"].startswith("text/css"), href
            assert "Accept-Encoding" in headers["vary"], href
            assert max_age(headers["cache-control"]) >= ONE_YEAR, href
            assert "immutable" in headers["cache-control"], href
            bodies[asked] = body
        # One stylesheet, three encodings; each compressed one is smaller.
        assert brotli.decompress(bodies["br"]) == bodies["identity"]
        assert gzip.decompress(bodies["gzip"]) == bodies["identity"]
        assert len(bodies["br"]) < len(bodies["identity"])
        assert len(bodies["gzip"]) < len(bodies["identity"])
        assert b"{" in bodies["identity"], href


def test_the_images_health_check_passes_on_gunicorn_and_fails_when_nothing_answers(served):
    def healthcheck(port: int, allowed_hosts: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "deploy/healthcheck.py"],
            cwd=ROOT,
            env={"PATH": os.environ["PATH"], "PORT": str(port), "ALLOWED_HOSTS": allowed_hosts},
            capture_output=True,
            text=True,
            timeout=30,
        )

    ok = healthcheck(served.port, "127.0.0.1,portal.example.com")
    assert ok.returncode == 0, ok.stdout
    # A host name the settings do not serve is a misconfiguration: Django answers 400.
    wrong_host = healthcheck(served.port, "elsewhere.example")
    assert wrong_host.returncode == 1 and "400" in wrong_host.stdout
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    nothing = healthcheck(closed, "127.0.0.1")
    assert nothing.returncode == 1 and "no answer" in nothing.stdout
