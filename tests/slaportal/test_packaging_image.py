"""The Dockerfile and its build context (README, "Container image and compose"): two
stages, a user that is not root, WeasyPrint's libraries and the statements' fonts, the
lock installed with its hashes, static files collected, no secret baked in."""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
from functools import cache

from tests.support.packaging_files import (
    ROOT,
    SECRET_NAME,
    dockerfile,
    dockerfile_user,
    final_stage,
    procfile,
    runs,
    shell_line,
    stages,
)

# ---------------------------------------------------------------- Dockerfile


def test_the_image_is_built_in_two_stages_and_runs_as_a_user_that_is_not_root():
    froms = [arguments.split() for instruction, arguments in dockerfile() if instruction == "FROM"]
    assert len(froms) >= 2
    assert froms[0] == ["python:3.11-slim-bookworm", "AS", "builder"]
    assert froms[-1][0] == "python:3.11-slim-bookworm"
    copies = [a for i, a in final_stage() if i == "COPY" and a.startswith("--from=builder")]
    assert copies == ["--from=builder /opt/venv /opt/venv"]
    uid, gid = dockerfile_user().split(":")
    assert uid not in {"0", "root"} and gid not in {"0", "root"}
    useradd = next(c for c in runs(final_stage()) if c[:1] == ["useradd"])
    assert useradd[useradd.index("--uid") + 1] == uid
    # The user comes after every RUN and COPY: the code was copied as root (the app can
    # read it, not change it), and nothing runs as root after it.
    order = [instruction for instruction, _ in final_stage()]
    last_user = len(order) - 1 - order[::-1].index("USER")
    assert all(i < last_user for i, name in enumerate(order) if name in {"RUN", "COPY"})


def apt_packages(stage: list[tuple[str, str]]) -> set[str]:
    packages: set[str] = set()
    for argv in runs(stage):
        if "apt-get" in argv and "install" in argv:
            after = argv[argv.index("install") + 1 :]
            packages |= {word for word in after if not word.startswith("-")}
    return packages


# static/css/statement.css and statements/charts.py name font families; these Debian
# packages provide them (fc-list on this machine: same Debian release as the image).
FONT_PACKAGES = {"Liberation Sans": "fonts-liberation", "DejaVu Sans": "fonts-dejavu-core"}
GENERIC_FAMILIES = {"serif", "sans-serif", "monospace", "cursive", "fantasy", "system-ui"}


def statement_font_families() -> set[str]:
    css = (ROOT / "static" / "css" / "statement.css").read_text()
    css += (ROOT / "static" / "css" / "credit-note.css").read_text()
    families: set[str] = set()
    for declaration in re.findall(r"font(?:-family)?\s*:\s*([^;}]+)", css):
        families |= {name.strip() for name in re.findall(r'"([^"]+)"', declaration)}
        families |= {w for w in re.findall(r"[\w-]+", declaration) if w in GENERIC_FAMILIES}
    return families


def test_the_image_has_weasyprints_libraries_and_every_font_the_statements_name():
    packages = apt_packages(final_stage())
    # WeasyPrint's own list (weasyprint/text/ffi.py): Pango, PangoFT2, HarfBuzz,
    # fontconfig (GObject comes with Pango), and HarfBuzz's subsetter, without which
    # each PDF falls back to slow pure-Python font subsetting.
    assert {
        "libpango-1.0-0",
        "libpangoft2-1.0-0",
        "libharfbuzz0b",
        "libharfbuzz-subset0",
        "libfontconfig1",
    } <= packages
    families = statement_font_families() - GENERIC_FAMILIES
    assert families == set(FONT_PACKAGES), "a font the statements name has no package here"
    assert {FONT_PACKAGES[family] for family in families} <= packages
    for argv in runs(final_stage()):
        if "install" in argv and "apt-get" in argv:
            assert "--no-install-recommends" in argv


def test_the_venv_is_the_locks_runtime_part_installed_with_its_hashes():
    builder = stages()[0]
    commands = runs(builder)
    assert [
        "python",
        "deploy/runtime_requirements.py",
        "pyproject.toml",
        "requirements.lock",
    ] == commands[0][:4]
    assert commands[0][4:] == [">", "runtime.lock"]
    install = next(c for c in commands if c[:2] == ["/opt/venv/bin/pip", "install"])
    assert {"--require-hashes", "--no-deps"} <= set(install)
    assert install[install.index("-r") + 1] == "runtime.lock"
    assert any(c[-1:] == ["check"] for c in commands), "pip check: nothing is missing"
    copied = [a for i, a in builder if i == "COPY"]
    assert "pyproject.toml requirements.lock ./" in copied


def test_static_files_are_collected_into_the_image_and_the_app_user_may_rewrite_them():
    env = {}
    for instruction, arguments in final_stage():
        if instruction == "ENV":
            env.update(dict(word.split("=", 1) for word in shlex.split(arguments) if "=" in word))
    static_root = env["STATIC_ROOT"]
    commands = runs(final_stage())
    collect = next(c for c in commands if "collectstatic" in c)
    assert collect[collect.index("manage.py") + 1 :] == ["collectstatic", "--no-input", "-v0"]
    # The settings' SECRET_KEY for this one command: not an ENV, so in no container.
    assert collect[0].startswith("SECRET_KEY=") and "SECRET_KEY" not in env
    chown = next(c for c in commands if c[:1] == ["chown"])
    assert chown[-2:] == ["slaportal:slaportal", static_root]
    assert not static_root.startswith(env["VAR_DIR"]), "a volume on VAR_DIR would hide them"


def test_the_image_exposes_8000_checks_its_health_and_starts_the_web_line():
    stage = final_stage()
    assert ("EXPOSE", "8000") in stage
    health = next(arguments for instruction, arguments in stage if instruction == "HEALTHCHECK")
    options, _, command = health.partition(" CMD ")
    assert "--interval=" in options and "--timeout=" in options
    assert json.loads(command) == ["python", "/app/deploy/healthcheck.py"]
    assert not dockerignored("deploy/healthcheck.py")
    cmd = json.loads(next(arguments for instruction, arguments in stage if instruction == "CMD"))
    assert shell_line(cmd) == procfile()["web"]


def test_no_secret_is_baked_into_the_image():
    for instruction, arguments in dockerfile():
        if instruction in {"ENV", "ARG", "LABEL"}:
            assert not SECRET_NAME.search(arguments), arguments
    # The one SECRET_KEY is collectstatic's, for that command alone.
    assert (ROOT / "Dockerfile").read_text().count("SECRET_KEY=") == 1


# ---------------------------------------------------------------- .dockerignore


@cache
def dockerignore() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def dockerignored(path: str) -> bool:
    """Whether ``path`` stays out of the build context: the last matching pattern decides
    (``!`` re-includes), a pattern matching a folder takes what is inside it, ``**/``
    matches at any depth (the part of Docker's rules this file uses)."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    ignored = False
    for pattern in dockerignore():
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        candidates = prefixes
        if pattern.startswith("**/"):
            pattern = pattern[3:]
            candidates = [
                "/".join(parts[n : m + 1]) for n in range(len(parts)) for m in range(n, len(parts))
            ]
        if any(fnmatch.fnmatchcase(candidate, pattern) for candidate in candidates):
            ignored = not negate
    return ignored


def test_the_build_context_carries_the_app_and_leaves_out_secrets_and_local_state():
    apps = [p.parent.name for p in ROOT.glob("*/apps.py")]
    needed = [
        "manage.py",
        "pyproject.toml",
        "requirements.lock",
        "deploy/runtime_requirements.py",
        "deploy/healthcheck.py",
        "static/css/portal.css",
        "static/css/statement.css",
        "templates/base.html",
        "slaportal/settings.py",
        *(f"{app}/__init__.py" for app in apps),
    ]
    assert len(apps) >= 10
    for path in needed:
        assert (ROOT / path).exists(), path
        assert not dockerignored(path), path
    for path in [
        ".env",
        "compose.env",
        ".git/config",
        ".venv/bin/python",
        "var/demo.sqlite3",
        "var/media/statements/x.pdf",
        "tests/conftest.py",
        "node_modules/axe-core/axe.min.js",
        "portal/__pycache__/views.cpython-311.pyc",
    ]:
        assert dockerignored(path), path
