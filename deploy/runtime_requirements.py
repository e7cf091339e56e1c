"""The runtime part of requirements.lock, for the container image (Dockerfile).

requirements.lock is one lock for everything (``pip-compile --extra=dev``): the app's
dependencies and the dev tools (pytest, Playwright, Locust, moto, pandas…). The image
needs only the first: this prints the lock's entries for ``[project].dependencies`` of
pyproject.toml and everything they pull in, each entry exactly as the lock has it (same
pin, same hashes), so ``pip install --require-hashes --no-deps`` installs the very
versions ``make venv`` installs, less the tools. What pulls in what is read from the
lock's own ``# via`` notes (pip-compile writes every parent of every entry).

Standard library only: it runs in the image's builder stage before anything is installed.

    python deploy/runtime_requirements.py pyproject.toml requirements.lock > runtime.lock
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_ENTRY = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==\S+")


def normalize(name: str) -> str:
    """PEP 503: ``Django_Celery.Beat`` and ``django-celery-beat`` are one project."""
    return re.sub(r"[-_.]+", "-", name).lower()


def direct_dependencies(pyproject: str) -> set[str]:
    """The project's runtime dependencies (not its optional ``dev`` extra), by name."""
    project = tomllib.loads(pyproject)["project"]
    names = set()
    for spec in project["dependencies"]:
        match = _NAME.match(spec)
        if match is None:
            raise ValueError(f"cannot read a project name from {spec!r}")
        names.add(normalize(match.group(1)))
    return names


def lock_entries(lock: str) -> dict[str, tuple[str, set[str]]]:
    """Each entry of a pip-compile lock: its text (pin, hashes, notes) and its parents."""
    entries: dict[str, tuple[str, set[str]]] = {}
    name = None
    lines: list[str] = []
    parents: set[str] = set()

    def close() -> None:
        if name is not None:
            entries[name] = ("".join(lines), parents)

    for line in lock.splitlines(keepends=True):
        match = _ENTRY.match(line)
        if match:
            close()
            name, lines, parents = normalize(match.group(1)), [line], set()
            continue
        if name is None or not line.startswith(" "):
            # The header, or a section comment at column 0: no entry continues past it.
            close()
            name = None
            continue
        lines.append(line)
        note = line.strip()
        # "# via flask", or "# via" followed by one "#   parent" per line.
        note = note.removeprefix("# via").removeprefix("#").strip()
        if note and not note.startswith("--hash") and not note.startswith("-"):
            parent = _NAME.match(note)
            if parent and "(" not in note:
                parents.add(normalize(parent.group(1)))
    close()
    return entries


def runtime_subset(pyproject: str, lock: str) -> list[str]:
    """The names of the lock's runtime entries: the direct dependencies and, repeatedly,
    every entry one of them pulls in. A direct dependency missing from the lock means the
    lock is older than pyproject.toml: that is an error, not a smaller image."""
    entries = lock_entries(lock)
    wanted = direct_dependencies(pyproject)
    missing = wanted - entries.keys()
    if missing:
        raise SystemExit(
            f"requirements.lock has no entry for {', '.join(sorted(missing))}: run make lock"
        )
    runtime = set(wanted)
    grew = True
    while grew:
        grew = False
        for name, (_, parents) in entries.items():
            if name not in runtime and parents & runtime:
                runtime.add(name)
                grew = True
    return sorted(runtime)


def main(argv: list[str]) -> None:
    pyproject, lock = (Path(arg).read_text() for arg in argv)
    entries = lock_entries(lock)
    names = runtime_subset(pyproject, lock)
    sys.stdout.write(
        "# The runtime entries of requirements.lock (deploy/runtime_requirements.py).\n"
    )
    sys.stdout.write("".join(entries[name][0] for name in names))


if __name__ == "__main__":
    main(sys.argv[1:])
