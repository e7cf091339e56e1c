"""The systemd units (README, "systemd"): one per Procfile line, running its command as the
dedicated user, release first, all in slaportal.target."""

from __future__ import annotations

import shlex

from django.conf import settings

from tests.support.packaging_files import (
    SYSTEMD,
    long_running,
    procfile,
    service_units,
    shell_line,
    systemd_literal,
    unit,
)

# ---------------------------------------------------------------- systemd


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
