"""What the packaging tests share (tests/slaportal/test_packaging*.py): the Procfile as
honcho reads it, the one list of processes and their commands the compose file, the
Dockerfile and the systemd units are held to."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re
import shlex
from functools import cache
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
SYSTEMD = ROOT / "deploy" / "systemd"
# Modules of the project itself (what the app reads), not its tests or tools.
NOT_APP = {".venv", "tests", "bench", "deploy", "node_modules", "var", "migrations", ".git"}
APP_USER = "10001:10001"


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


runtime_requirements = _load(ROOT / "deploy" / "runtime_requirements.py")
healthcheck = _load(ROOT / "deploy" / "healthcheck.py")


# ---------------------------------------------------------------- the Procfile


@cache
def procfile() -> dict[str, str]:
    """Process name → command, as honcho reads the Procfile."""
    processes = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, command = line.partition(":")
            processes[name.strip()] = command.strip()
    return processes


def long_running() -> list[str]:
    return [name for name in procfile() if name != "release"]


def shell_line(argv: list[str]) -> str:
    """The command line of ``sh -c "[exec ]LINE"``: ``exec`` only makes the process itself
    the one that receives SIGTERM, it runs the same command."""
    assert argv[:2] in (["sh", "-c"], ["/bin/sh", "-c"]), argv
    assert len(argv) == 3, argv
    return argv[2].removeprefix("exec ")


@cache
def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) as Docker reads them: continuation lines joined, comment
    lines (inside a continuation too) dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in (ROOT / "Dockerfile").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        instruction, _, arguments = (pending + line).partition(" ")
        instructions.append((instruction.upper(), arguments.strip()))
        pending = ""
    assert not pending, "the Dockerfile ends inside a continuation"
    return instructions


def stages() -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for instruction, arguments in dockerfile():
        if instruction == "FROM":
            result.append([])
        result[-1].append((instruction, arguments))
    return result


def final_stage() -> list[tuple[str, str]]:
    return stages()[-1]


def runs(stage: list[tuple[str, str]]) -> list[list[str]]:
    """Each command of each RUN, as argv (split at &&)."""
    commands: list[list[str]] = []
    for instruction, arguments in stage:
        if instruction == "RUN":
            current: list[str] = []
            for word in shlex.split(arguments):
                if word == "&&":
                    commands.append(current)
                    current = []
                else:
                    current.append(word)
            commands.append(current)
    return commands


def dockerfile_user() -> str:
    users = [arguments for instruction, arguments in final_stage() if instruction == "USER"]
    assert users, "the image sets no USER"
    return users[-1]


@cache
def unit(name: str) -> dict[str, dict[str, list[str]]]:
    """A unit file as systemd reads it: sections of settings, each setting a list (a key
    may repeat), continuation lines joined, comments dropped."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    pending = ""
    for raw in (SYSTEMD / name).read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line[0] in "#;"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        key, separator, value = line.partition("=")
        assert separator and current is not None, f"{name}: cannot read {raw!r}"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def systemd_literal(text: str) -> str:
    """The argument a process receives: systemd turns ``%%`` into ``%`` and ``$$`` into
    ``$``, and substitutes every other specifier and variable, which a command meant for
    the shell must therefore not have."""
    assert "%" not in text.replace("%%", ""), f"systemd would expand a specifier in {text!r}"
    assert "$" not in text.replace("$$", ""), f"systemd would substitute a variable in {text!r}"
    return text.replace("%%", "%").replace("$$", "$")


def service_units() -> dict[str, str]:
    """Procfile process → its unit's file name."""
    return {name: f"slaportal-{name}.service" for name in procfile()}


SECRET_NAME = re.compile(r"SECRET|PASSWORD|TOKEN")
