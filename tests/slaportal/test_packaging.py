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

import ast
import fnmatch
import importlib.metadata
import importlib.util
import json
import os
import re
import secrets
import shlex
import subprocess
import sys
import tomllib
from functools import cache
from pathlib import Path
from types import ModuleType

import pytest
import yaml
from django.conf import settings
from packaging.markers import default_environment
from packaging.requirements import Requirement

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


def test_the_procfile_has_the_five_processes_the_packaging_runs():
    assert list(procfile()) == ["release", "web", "worker", "statements-worker", "beat"]


# ---------------------------------------------------------------- compose.yaml


@cache
def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def services() -> dict[str, dict]:
    return compose()["services"]


def app_services() -> dict[str, dict]:
    """The services that run the image: one per Procfile line, and the grants step."""
    return {name: s for name, s in services().items() if s.get("image") == app_image()}


def app_image() -> str:
    return services()["web"]["image"]


def compose_literal(text: str) -> str:
    """The string a container receives for ``text``: Compose turns ``$$`` into ``$`` and
    substitutes every other ``$``, which a command meant for the container's shell must
    therefore not have."""
    assert "$" not in text.replace("$$", ""), f"Compose would substitute a variable in {text!r}"
    return text.replace("$$", "$")


def test_every_procfile_process_is_a_compose_service_running_its_line():
    for name, line in procfile().items():
        assert name in services(), f"no {name} service"
        assert shell_line([compose_literal(a) for a in services()[name]["command"]]) == line


def test_every_app_service_runs_the_one_image_the_dockerfile_builds():
    assert set(procfile()) | {"db-grants"} == set(app_services())
    for name, service in app_services().items():
        assert service["build"] == ".", name
        assert (ROOT / service["build"] / "Dockerfile").is_file()


def test_release_runs_once_and_every_process_starts_only_after_it_succeeded():
    release = services()["release"]
    assert release["restart"] == "no"
    assert release["depends_on"]["postgres"] == {"condition": "service_healthy"}
    grants = services()["db-grants"]
    assert grants["restart"] == "no"
    assert grants["depends_on"]["release"] == {"condition": "service_completed_successfully"}
    for name in long_running():
        service = services()[name]
        assert service["restart"] == "unless-stopped", name
        depends = service["depends_on"]
        assert depends["release"] == {"condition": "service_completed_successfully"}, name
        assert depends["db-grants"] == {"condition": "service_completed_successfully"}, name
        assert depends["postgres"] == {"condition": "service_healthy"}, name
        assert depends["redis"] == {"condition": "service_healthy"}, name


def test_postgres_16_and_redis_run_with_health_checks_and_their_data_on_volumes():
    postgres, redis = services()["postgres"], services()["redis"]
    assert postgres["image"].startswith("postgres:16")
    assert redis["image"].startswith("redis:7")
    assert postgres["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    assert redis["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    volumes = compose()["volumes"]
    assert "postgres-data:/var/lib/postgresql/data" in postgres["volumes"]
    assert "redis-data:/data" in redis["volumes"]
    assert {"postgres-data", "redis-data"} <= set(volumes)
    # The roles script it mounts for its first start exists and creates both roles.
    script = next(v for v in postgres["volumes"] if "docker-entrypoint-initdb.d" in v)
    source = (ROOT / script.split(":")[0]).read_text()
    assert "CREATE ROLE slaportal_owner" in source and "CREATE ROLE slaportal_app" in source


def test_no_service_runs_as_root():
    for name, service in services().items():
        user = str(service.get("user", ""))
        assert user, f"{name} sets no user"
        assert user.split(":")[0] not in {"root", "0"}, name
    for name, service in app_services().items():
        # The image's own user (Dockerfile USER): the same uid everywhere.
        assert service["user"] == APP_USER == dockerfile_user(), name


def test_no_app_service_shares_a_media_volume():
    """Files go to the object store of STORAGE_URL, which every container reaches; a
    volume would only work while every container sat on one machine."""
    for name, service in app_services().items():
        assert "volumes" not in service, name
        assert compose_env(service)["STORAGE_URL"].startswith("${STORAGE_URL:?"), name


def compose_env(service: dict) -> dict[str, str]:
    environment = service.get("environment", {})
    assert isinstance(environment, dict), "environment as a mapping, one variable a line"
    return {key: str(value) for key, value in environment.items()}


@cache
def app_env_names() -> set[str]:
    """Every variable the app reads: the names given to slaportal/env.py's readers
    (``env.string("SECRET_KEY")``…), to a settings helper that hands its argument to one
    (``_rate("API_THROTTLE_ANON", …)``), and to os.environ / os.getenv."""
    readers = {
        node.name
        for node in ast.parse((ROOT / "slaportal" / "env.py").read_text()).body
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_")
    }
    names: set[str] = set()
    for path in ROOT.rglob("*.py"):
        if NOT_APP & set(path.relative_to(ROOT).parts):
            continue
        tree = ast.parse(path.read_text(), str(path))
        wrappers = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.args.args:
                parameter = node.args.args[0].arg
                if any(
                    _reads_env(call, readers)
                    and isinstance(call.args[0], ast.Name)
                    and call.args[0].id == parameter
                    for call in ast.walk(node)
                    if isinstance(call, ast.Call) and call.args
                ):
                    wrappers.add(node.name)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and node.args:
                first = node.args[0]
                named = isinstance(first, ast.Constant) and isinstance(first.value, str)
                wrapper = isinstance(node.func, ast.Name) and node.func.id in wrappers
                if named and (_reads_env(node, readers) or wrapper):
                    names.add(first.value)
            elif isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
                if isinstance(node.slice, ast.Constant):
                    names.add(node.slice.value)
    return names


def _reads_env(call: ast.Call, readers: set[str]) -> bool:
    func = ast.unparse(call.func)
    return func in {f"env.{reader}" for reader in readers} or func in {
        "os.environ.get",
        "os.getenv",
        "os.environ.setdefault",
    }


def procfile_env_names() -> set[str]:
    return {m for line in procfile().values() for m in re.findall(r"\$\{(\w+)", line)}


# boto3 reads these for the bucket of STORAGE_URL (slaportal/storage.py says so).
LIBRARY_ENV_NAMES = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}


def test_the_scan_finds_the_variables_the_settings_read():
    # The reader itself, checked on names it must find (each read a different way).
    assert {"SECRET_KEY", "DATABASE_URL", "ALLOWED_HOSTS", "STORAGE_URL"} <= app_env_names()
    assert {"API_THROTTLE_ANON", "DJANGO_SETTINGS_MODULE"} <= app_env_names()
    assert {"WEB_CONCURRENCY", "CELERY_STATEMENTS_CONCURRENCY"} <= procfile_env_names()


def test_every_variable_compose_gives_the_app_is_one_it_reads():
    known = app_env_names() | procfile_env_names() | LIBRARY_ENV_NAMES
    for name, service in app_services().items():
        unknown = set(compose_env(service)) - known
        assert unknown == set(), f"{name}: nothing reads {sorted(unknown)}"


def test_the_app_gets_what_production_requires_and_compose_stops_without_it():
    required = {"SECRET_KEY", "ALLOWED_HOSTS", "PORTAL_URL", "EMAIL_URL", "STORAGE_URL"}
    for name, service in app_services().items():
        env = compose_env(service)
        for variable in required:
            # ${VAR:?message}: `docker compose up` refuses to start with it unset or empty.
            assert env[variable].startswith(f"${{{variable}:?"), (name, variable)
        assert env["CELERY_BROKER_URL"] == "redis://redis:6379/0", name
        assert env["CACHE_URL"] == "redis://redis:6379/1", name
        assert env["DATABASE_URL"].startswith("postgres://"), name
        assert env["DATABASE_URL"].endswith("@postgres:5432/slaportal"), name
        assert "DEBUG" not in env, name


def test_migrations_run_as_the_tables_owner_and_the_processes_as_the_application_role():
    owner, app = "postgres://slaportal_owner:", "postgres://slaportal_app:"
    for name in ("release", "db-grants"):
        assert compose_env(services()[name])["DATABASE_URL"].startswith(owner), name
    for name in long_running():
        assert compose_env(services()[name])["DATABASE_URL"].startswith(app), name
    assert services()["db-grants"]["command"][-2:] == ["db_grant_app_role", "slaportal_app"]
    # The processes never see the cluster's superuser or the owner's password.
    for name in long_running():
        assert not {"POSTGRES_PASSWORD", "SLAPORTAL_OWNER_PASSWORD"} & set(
            compose_env(services()[name])
        )
        assert "SLAPORTAL_OWNER_PASSWORD" not in str(services()[name]), name


SECRET_NAME = re.compile(r"SECRET|PASSWORD|TOKEN")


def test_no_secret_is_written_into_the_compose_file():
    for name, service in services().items():
        for variable, value in compose_env(service).items():
            if SECRET_NAME.search(variable):
                assert re.fullmatch(r"\$\{\w+:[?-][^}]*\}", value), (name, variable)
            # A password inside a URL comes from .env as well (messages of ${VAR:?…} aside).
            bare = re.sub(r"\$\{(\w+)[^}]*\}", r"${\1}", value)
            password = re.search(r"://[^/:@]+:([^@]*)@", bare)
            if password:
                assert password.group(1).startswith("${"), (name, variable)


def test_the_example_env_file_names_exactly_what_compose_reads():
    text = (ROOT / "compose.yaml").read_text().replace("$$", "")
    used = set(re.findall(r"\$\{(\w+)", text))
    example = {
        line.split("=", 1)[0]
        for line in (ROOT / "compose.env.example").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    }
    assert used == example


def test_web_is_published_on_loopback_behind_the_tls_proxy():
    web = services()["web"]
    assert [p.split(":")[0] for p in web["ports"]] == ["127.0.0.1"]
    assert web["ports"][0].endswith(":8000")
    env = compose_env(web)
    assert env["USE_X_FORWARDED_PROTO"] == "1"
    assert env["TRUSTED_PROXY_COUNT"] == "${TRUSTED_PROXY_COUNT:-1}"


def test_web_counts_every_gunicorn_workers_requests_in_a_directory_empty_at_each_start():
    """portal/metrics.py's multiprocess mode, for the web processes alone."""
    for name, service in app_services().items():
        folder = compose_env(service).get("PROMETHEUS_MULTIPROC_DIR")
        if name == "web":
            # A tmpfs: the container's own, empty whenever it starts.
            assert service["tmpfs"] == [folder], name
        else:
            assert folder is None, name
    web = unit(service_units()["web"])["Service"]
    assert "PROMETHEUS_MULTIPROC_DIR=/run/slaportal-web" in web["Environment"]
    assert web["RuntimeDirectory"] == ["slaportal-web"]
    for name in procfile():
        if name != "web":
            service = unit(service_units()[name])["Service"]
            assert not any("PROMETHEUS" in e for e in service["Environment"]), name


def test_only_web_keeps_the_images_http_health_check():
    """The image's HEALTHCHECK asks gunicorn; the other services run no web server."""
    for name in app_services():
        disabled = services()[name].get("healthcheck", {}).get("disable") is True
        assert disabled == (name != "web"), name


def test_workers_have_time_to_finish_their_tasks_when_stopped():
    for name in ("worker", "statements-worker"):
        grace = services()[name]["stop_grace_period"]
        assert int(grace.removesuffix("s")) > settings.CELERY_TASK_TIME_LIMIT, name


# ---------------------------------------------------------------- Dockerfile


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


# ---------------------------------------------------------------- the image's packages


@cache
def runtime_lock() -> str:
    """The Dockerfile's step, run as it runs it."""
    result = subprocess.run(
        [sys.executable, "deploy/runtime_requirements.py", "pyproject.toml", "requirements.lock"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout


def runtime_names() -> set[str]:
    return set(runtime_requirements.lock_entries(runtime_lock()))


def normalize(name: str) -> str:
    return runtime_requirements.normalize(name)


@cache
def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_the_image_gets_every_dependency_of_the_app_and_none_of_the_dev_tools():
    project = pyproject()["project"]
    direct = {normalize(Requirement(spec).name) for spec in project["dependencies"]}
    assert direct <= runtime_names()
    dev = {normalize(Requirement(spec).name) for spec in project["optional-dependencies"]["dev"]}
    assert {"pytest", "playwright", "locust", "moto", "pandas", "schemathesis"} <= dev
    assert dev & runtime_names() == set()
    # Each entry exactly as locked: pin and hashes.
    lock = runtime_requirements.lock_entries((ROOT / "requirements.lock").read_text())
    for name, (text, _) in runtime_requirements.lock_entries(runtime_lock()).items():
        assert text == lock[name][0], name
        assert "--hash=sha256:" in text, name


def test_the_images_packages_include_everything_they_require():
    """What ``pip check`` does in the image, here: every requirement of every package in
    the runtime part (with the extras asked of it, under this interpreter's markers) is in
    the runtime part too. Read from this venv, which is the lock's (make venv)."""
    names = runtime_names()
    lock = runtime_requirements.lock_entries(runtime_lock())
    extras: dict[str, set[str]] = {}
    for spec in pyproject()["project"]["dependencies"]:
        requirement = Requirement(spec)
        extras.setdefault(normalize(requirement.name), set()).update(requirement.extras)
    environment = default_environment()
    missing = set()
    queue = sorted(names)
    while queue:
        name = queue.pop()
        pinned = re.match(r"\S+==(\S+)", lock[name][0]).group(1)
        assert importlib.metadata.version(name) == pinned, f"{name}: the venv is not the lock's"
        for spec in importlib.metadata.requires(name) or []:
            requirement = Requirement(spec)
            wanted = requirement.marker is None or any(
                requirement.marker.evaluate({**environment, "extra": extra})
                for extra in extras.get(name, set()) | {""}
            )
            if not wanted:
                continue
            child = normalize(requirement.name)
            if child not in names:
                missing.add(f"{name} needs {spec}")
            elif not requirement.extras <= extras.setdefault(child, set()):
                extras[child] |= requirement.extras
                queue.append(child)
    assert missing == set()


# Run in a process of its own, with every module the image lacks refused on import: the
# production settings load, the WSGI application (its middleware) and the Celery app
# (its tasks) are made, every module of the project's apps imports, and `check` passes.
IMAGE_PROCESS = """
import importlib.abc, os, pkgutil, sys

blocked = set(sys.argv[1].split(","))


class NotInTheImage(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in blocked:
            raise ModuleNotFoundError(f"{name} is not in the image", name=name)


sys.meta_path.insert(0, NotInTheImage())
sys.path.insert(0, os.getcwd())
import django

django.setup()
from django.conf import settings
from django.core.management import call_command

from slaportal.celery import app
from slaportal.wsgi import application

application.load_middleware()
app.loader.import_default_modules()
for name in settings.INSTALLED_APPS:
    package = __import__(name)
    if os.path.dirname(os.path.dirname(package.__file__)) != os.getcwd():
        continue  # a library's app: its own tests and extras are not ours to import
    for module in pkgutil.walk_packages(package.__path__, name + "."):
        __import__(module.name)
call_command("check", "--deploy", "--fail-level", "ERROR")
print("started")
"""


def test_the_app_starts_with_the_images_packages_alone(tmp_path):
    runtime = runtime_names()
    not_in_image = {
        top
        for top, distributions in importlib.metadata.packages_distributions().items()
        if not any(normalize(d) in runtime for d in distributions)
    }
    assert {"pytest", "playwright", "moto", "factory", "pandas"} <= not_in_image
    result = subprocess.run(
        [sys.executable, "-c", IMAGE_PROCESS, ",".join(sorted(not_in_image))],
        cwd=ROOT,
        env={
            "PATH": os.environ["PATH"],
            "DJANGO_SETTINGS_MODULE": "slaportal.settings",
            "SECRET_KEY": secrets.token_urlsafe(60),
            "ALLOWED_HOSTS": "portal.example.com",
            "VAR_DIR": str(tmp_path),
            "STATIC_ROOT": str(tmp_path),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("started")


def test_a_dependency_missing_from_the_lock_stops_the_build(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\nversion = "1"\ndependencies = ["Django>=5.2", "left-out>=1"]\n'
    )
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "deploy" / "runtime_requirements.py"),
            "pyproject.toml",
            str(ROOT / "requirements.lock"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "requirements.lock has no entry for left-out: run make lock" in result.stderr


# ---------------------------------------------------------------- the health check


@pytest.mark.parametrize(
    ("allowed_hosts", "host"),
    [
        ("portal.example.com,localhost", "portal.example.com"),
        (".example.com", "example.com"),
        ("*", "localhost"),
        ("", "localhost"),
    ],
)
def test_the_health_check_asks_with_a_host_name_django_serves(allowed_hosts, host):
    assert healthcheck.host_header(allowed_hosts) == host


# ---------------------------------------------------------------- systemd


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


def test_one_systemd_unit_per_procfile_line_running_its_command():
    on_disk = {path.name for path in SYSTEMD.glob("*.service")}
    assert on_disk == set(service_units().values())
    for name, filename in service_units().items():
        (exec_start,) = unit(filename)["Service"]["ExecStart"]
        argv = [systemd_literal(word) for word in shlex.split(exec_start)]
        assert shell_line(argv) == procfile()[name], filename


def test_every_unit_runs_as_the_dedicated_user_with_the_settings_file_and_the_venv():
    for filename in service_units().values():
        service = unit(filename)["Service"]
        assert service["User"] == ["slaportal"] and service["Group"] == ["slaportal"], filename
        assert service["EnvironmentFile"][0] == "/etc/slaportal/env", filename
        assert service["WorkingDirectory"] == ["/opt/slaportal/app"], filename
        path = next(e for e in service["Environment"] if e.startswith("PATH="))
        # The Procfile's gunicorn, celery and python are the venv's.
        assert path.removeprefix("PATH=").split(":")[0] == "/opt/slaportal/venv/bin", filename
        assert "StateDirectory" in service and service["NoNewPrivileges"] == ["yes"], filename


def test_release_is_a_oneshot_every_other_unit_requires_and_follows():
    release = unit(service_units()["release"])
    assert release["Service"]["Type"] == ["oneshot"]
    assert release["Service"]["RemainAfterExit"] == ["yes"]
    assert "Restart" not in release["Service"]
    for name in long_running():
        sections = unit(service_units()[name])
        after = " ".join(sections["Unit"]["After"]).split()
        assert "slaportal-release.service" in after, name
        assert sections["Unit"]["Requires"] == ["slaportal-release.service"], name
        assert sections["Service"]["Restart"] == ["always"], name


def test_web_tells_systemd_when_it_is_ready_and_workers_may_finish_their_tasks():
    web = unit(service_units()["web"])["Service"]
    assert web["Type"] == ["notify"] and web["KillMode"] == ["mixed"]
    for name in ("worker", "statements-worker"):
        service = unit(service_units()[name])["Service"]
        assert service["KillMode"] == ["mixed"], name
        assert int(service["TimeoutStopSec"][0]) > settings.CELERY_TASK_TIME_LIMIT, name


def test_the_units_belong_to_the_slaportal_target():
    target = unit("slaportal.target")
    assert target["Install"]["WantedBy"] == ["multi-user.target"]
    for filename in service_units().values():
        sections = unit(filename)
        assert sections["Install"]["WantedBy"] == ["slaportal.target"], filename
        assert sections["Unit"]["PartOf"] == ["slaportal.target"], filename
    # Beat runs the periodic jobs: no systemd timers beside it.
    assert list(SYSTEMD.glob("*.timer")) == []
