"""The compose file (README, "Container image and compose"), read as Compose reads it and
held to the Procfile: every process, its command, its order, its user and its variables."""

from __future__ import annotations

import ast
import re
from functools import cache

import yaml
from django.conf import settings

from tests.support.packaging_files import (
    APP_USER,
    NOT_APP,
    ROOT,
    SECRET_NAME,
    dockerfile_user,
    long_running,
    procfile,
    service_units,
    shell_line,
    unit,
)

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
