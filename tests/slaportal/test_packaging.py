"""The packaging a deploy runs from (README, "Container image and compose" and "systemd"):
the compose file, the Dockerfile and the systemd units, each read the way its tool reads
it and held to the Procfile, which stays the one list of processes and their commands.

No container engine or systemd runs here, so these check what an operator would
otherwise find out at deploy time: a process missing or starting a different command, a
service running as root, the app given a variable it never reads (a typo is a silent
default), WeasyPrint's libraries or the statements' fonts missing from the image, the
lock installed without its hashes, a secret baked into the image.
"""

from __future__ import annotations

from tests.support.packaging_files import procfile


def test_the_procfile_has_the_five_processes_the_packaging_runs():
    assert list(procfile()) == ["release", "web", "worker", "statements-worker", "beat"]
