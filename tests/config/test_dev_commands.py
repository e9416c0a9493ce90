"""The commands behind `make run`: load_demo (idempotent demo account) and run (web + worker)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from io import StringIO
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from django.core.management import CommandError, call_command

from accounts.management.commands.load_demo import DEFAULT_DEMO_PASSWORD, DEMO_EMAIL
from accounts.models import Membership, Organization, Role, User

BASE_DIR = Path(__file__).resolve().parents[2]


def load_demo(**env) -> str:
    out = StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_load_demo_creates_the_owner_and_organization_and_prints_the_login(settings, monkeypatch):
    settings.DEBUG = True
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    output = load_demo()
    user = User.objects.get(email=DEMO_EMAIL)
    assert user.check_password(DEFAULT_DEMO_PASSWORD)
    membership = Membership.objects.select_related("organization").get(user=user)
    assert membership.role == Role.OWNER
    assert membership.organization.name == "Demo Company"
    assert EmailAddress.objects.get(user=user).verified
    assert DEMO_EMAIL in output and DEFAULT_DEMO_PASSWORD in output


@pytest.mark.django_db
def test_load_demo_is_idempotent_and_applies_a_new_password(settings, monkeypatch):
    settings.DEBUG = True
    load_demo()
    user = User.objects.get(email=DEMO_EMAIL)
    user.set_password("changed-by-someone")
    user.save()
    monkeypatch.setenv("DEMO_PASSWORD", "another-demo-pass")
    output = load_demo()
    assert "updated" in output and "another-demo-pass" in output
    assert User.objects.filter(email=DEMO_EMAIL).count() == 1
    assert Organization.objects.filter(name="Demo Company").count() == 1
    assert EmailAddress.objects.filter(user__email=DEMO_EMAIL).count() == 1
    assert User.objects.get(email=DEMO_EMAIL).check_password("another-demo-pass")


@pytest.mark.django_db
def test_load_demo_refuses_the_default_password_outside_debug(settings, monkeypatch):
    settings.DEBUG = False
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    with pytest.raises(CommandError, match="DEMO_PASSWORD"):
        load_demo()
    assert not User.objects.filter(email=DEMO_EMAIL).exists()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to find child processes")
def test_run_serves_with_a_worker_and_stops_both_without_orphans(tmp_path):
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/"),
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'run.sqlite3'}",
    }
    manage = [sys.executable, str(BASE_DIR / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, cwd=BASE_DIR, check=True, timeout=120)
    port = _free_port()
    launcher = subprocess.Popen(
        [*manage, "run", "--addr", f"127.0.0.1:{port}", "--no-reload"],
        env=env,
        cwd=BASE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    # Read the launcher's output as it comes, so the test can wait for the announcement.
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(launcher.stdout), daemon=True)
    reader.start()
    announcement = f"Prospector is running on http://127.0.0.1:{port}/"
    try:
        body = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
                    body = r.read().decode()
                    break
            except OSError:  # not listening yet, or 503 until the worker reports
                time.sleep(0.3)
        assert body and '"clusters": 1' in body, body
        groups = _children_of(launcher.pid)
        assert len(groups) == 2  # runserver and qcluster, each leading its own group

        while time.monotonic() < deadline and not any(announcement in line for line in lines):
            time.sleep(0.1)

        launcher.send_signal(signal.SIGINT)  # what Ctrl-C delivers
        launcher.wait(timeout=30)
        reader.join(timeout=10)
        output = "".join(lines)
        assert launcher.returncode == 0, output
        assert announcement in output
        assert not [pgid for pgid in groups if _group_alive(pgid)], "processes left behind"
    finally:
        if launcher.poll() is None:
            launcher.kill()
            launcher.wait()
