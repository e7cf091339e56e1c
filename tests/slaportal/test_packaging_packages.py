"""The image's Python packages: the runtime part of the lock (deploy/runtime_requirements.py),
every dependency of the app and none of the dev tools; and the image's health check."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import re
import secrets
import subprocess
import sys
import tomllib
from functools import cache

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement

from tests.support.packaging_files import (
    ROOT,
    healthcheck,
    runtime_requirements,
)

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
