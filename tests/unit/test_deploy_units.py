"""deploy/: the supervisor and systemd units, read by the tools' own parsers (supervisor's
config loader, `systemd-analyze verify`), with paths and the user pointed at this checkout."""

import getpass
import shutil
import subprocess
from pathlib import Path

import pytest
from supervisor.options import ServerOptions

from messaging.routing import QUEUE_NAMES
from testing.servers import ROOT

DEPLOY = ROOT / "deploy"
SOFT_TIME_LIMIT = 60  # CELERY_TASK_SOFT_TIME_LIMIT: a stop must wait longer for a running task


def here(text: str, tmp_path: Path) -> str:
    """A unit as it would be installed, with this checkout in place of /opt/pro-platform."""
    return (
        text.replace("/opt/pro-platform", str(ROOT))
        .replace("/etc/pro-platform/env", str(tmp_path / "env"))
        .replace("/var/log/pro-platform", str(tmp_path))
        .replace("user=pro-platform", f"user={getpass.getuser()}")
    )


def test_supervisor_loads_a_program_per_process(tmp_path):
    (tmp_path / "pro-platform.conf").write_text(
        here((DEPLOY / "supervisor/pro-platform.conf").read_text(), tmp_path)
    )
    main = tmp_path / "supervisord.conf"
    main.write_text(
        f"[supervisord]\nlogfile={tmp_path}/supervisord.log\npidfile={tmp_path}/supervisord.pid\n"
        f"[include]\nfiles={tmp_path}/pro-platform.conf\n"
    )
    options = ServerOptions()
    options.realize(args=["-c", str(main)])
    (group,) = options.process_group_configs
    programs = {program.name: program for program in group.process_configs}
    assert group.name == "pro-platform"
    assert set(programs) == {"web", "beat", "relay", "flower", *(f"worker-{q}" for q in QUEUE_NAMES)}
    for queue in QUEUE_NAMES:
        command = programs[f"worker-{queue}"].command
        assert f"worker -Q {queue} -n {queue}@%h" in command
    for name, program in programs.items():
        assert program.command.startswith(f"{ROOT}/deploy/run-with-env "), name  # the one env file
        assert program.autorestart, name
        assert program.stopasgroup, name
        assert program.killasgroup, name
    for name in ("beat", "relay", *(f"worker-{q}" for q in QUEUE_NAMES)):
        assert programs[name].stopwaitsecs > SOFT_TIME_LIMIT, name


@pytest.fixture
def units(tmp_path: Path) -> Path:
    assert shutil.which("systemd-analyze"), "systemd-analyze is needed (make test installs it)"
    (tmp_path / "env").write_text("FLOWER_BASIC_AUTH=admin:secret\n")
    for unit in (DEPLOY / "systemd").iterdir():
        (tmp_path / unit.name).write_text(here(unit.read_text(), tmp_path))
    for queue in QUEUE_NAMES:  # the template's instances, as `systemctl enable` links them
        (tmp_path / f"celery-worker@{queue}.service").symlink_to(tmp_path / "celery-worker@.service")
    return tmp_path


def test_systemd_verifies_every_unit(units):
    names = sorted(
        p.name for p in units.iterdir() if p.suffix in (".service", ".target") and "@." not in p.name
    )
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *names],
        cwd=units,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # a unit systemd does not understand is only a warning
    assert {f"celery-worker@{q}.service" for q in QUEUE_NAMES} <= set(names)


def test_systemd_units_restart_and_stop_gracefully(units):
    for path in units.glob("*.service"):
        text = path.read_text()
        assert "Restart=always" in text, path.name
        assert f"EnvironmentFile={units}/env" in text, path.name
        assert "User=pro-platform" in text, path.name
    worker = (units / "celery-worker@.service").read_text()
    assert "-Q %i -n %i@%%H" in worker
    for name in ("celery-worker@.service", "celery-beat.service", "outbox-relay.service"):
        stop = next(
            line for line in (units / name).read_text().splitlines() if line.startswith("TimeoutStopSec=")
        )
        assert int(stop.split("=")[1]) > SOFT_TIME_LIMIT, name


def test_flower_refuses_to_start_without_a_password():
    result = subprocess.run(
        [str(DEPLOY / "flower")], env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "FLOWER_BASIC_AUTH" in result.stderr
