"""The container's health check (Dockerfile HEALTHCHECK): is this web process serving?

It asks the local gunicorn for ``/healthz`` with a Host header Django accepts (the first
of ALLOWED_HOSTS: any other name is a 400). Healthy: 200, or a 503 carrying /healthz's
own answer, ``{"status": "failing"}``: the process serves, and what fails is a part it
depends on (the database, the broker) or the monthly run; restarting this container
mends none of those, while restarting every web container at once because a statement is
late would take the portal down. The monitor that reads /healthz (HEALTHZ_TOKEN) reports
those. Unhealthy: no answer within the time limit, or any other answer.

Standard library only; exit status 0 healthy, 1 not (as Docker expects).
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request

TIMEOUT_SECONDS = 4


def host_header(allowed_hosts: str) -> str:
    """A name Django serves: the first of ALLOWED_HOSTS (".example.com" matches
    "example.com"; "*" matches anything)."""
    for host in allowed_hosts.split(","):
        host = host.strip().lstrip(".")
        if host and host != "*":
            return host
    return "localhost"


def healthy(port: int, allowed_hosts: str) -> tuple[bool, str]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/healthz",
        headers={"Host": host_header(allowed_hosts), "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            return response.status == 200, f"{response.status}"
    except urllib.error.HTTPError as error:
        if error.code == 503:
            try:
                body = json.loads(error.read())
            except ValueError:
                body = {}
            if isinstance(body, dict) and body.get("status") == "failing":
                return True, "503: serving; /healthz reports a failing part"
        return False, f"{error.code}"
    except (OSError, urllib.error.URLError) as error:
        return False, f"no answer: {error}"


def main() -> int:
    ok, why = healthy(int(os.environ.get("PORT") or 8000), os.environ.get("ALLOWED_HOSTS", ""))
    print(f"/healthz: {why}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
