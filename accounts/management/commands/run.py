"""`manage.py run`: the development server and a django-q2 worker in one terminal.

Each child runs in its own process group, so the whole group (runserver's autoreloader
child, qcluster's worker processes) is signalled together and nothing is left behind:
Ctrl-C, SIGTERM or SIGHUP stop both, and so does either child exiting on its own.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.management.commands.load_demo import DEFAULT_DEMO_PASSWORD, DEMO_EMAIL
from accounts.models import User
from config.env import env_str

GRACE_SECONDS = 10


class Command(BaseCommand):
    help = "Run the development web server and a task worker together; Ctrl-C stops both."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--addr", default="127.0.0.1:8000", help="runserver's address:port")
        parser.add_argument(
            "--no-reload", action="store_true", help="Do not restart the web server on changes."
        )

    def handle(self, *args, addr: str, no_reload: bool, **options) -> None:
        manage = str(Path(settings.BASE_DIR) / "manage.py")
        web = [sys.executable, manage, "runserver", addr]
        if no_reload:
            web.append("--noreload")
        commands = {"web": web, "worker": [sys.executable, manage, "qcluster"]}

        stop_signal: list[int] = []

        def request_stop(signum, frame) -> None:
            stop_signal.append(signum)

        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, request_stop)

        children: dict[str, subprocess.Popen] = {}
        exit_code = 0
        try:
            for name, command in commands.items():
                # process_group=0: a group of its own, so Ctrl-C reaches us first and we stop
                # the children in order; stdin closed so a stray breakpoint cannot hang.
                children[name] = subprocess.Popen(  # noqa: S603 (our own manage.py)
                    command, process_group=0, stdin=subprocess.DEVNULL
                )
            announced = False
            while not stop_signal:
                if not announced and _accepts_connections(addr):
                    # After the start-up noise, so the address and login stay in view.
                    self._announce(addr)
                    announced = True
                exited = [name for name, child in children.items() if child.poll() is not None]
                if exited:
                    name = exited[0]
                    exit_code = children[name].returncode or 1
                    self.stderr.write(
                        f"The {name} process exited (code {children[name].returncode}); stopping."
                    )
                    break
                time.sleep(0.2)
        finally:
            self._stop(children)
        if exit_code:
            sys.exit(exit_code)

    def _announce(self, addr: str) -> None:
        lines = [f"Prospector is running on http://{addr}/ with a task worker. Ctrl-C stops both."]
        if User.objects.filter(email=DEMO_EMAIL).exists():
            password = env_str("DEMO_PASSWORD") or (DEFAULT_DEMO_PASSWORD if settings.DEBUG else "")
            lines.append(f"Demo login: {DEMO_EMAIL} / {password or '(DEMO_PASSWORD)'}")
        self.stdout.write(self.style.SUCCESS("\n".join(lines)))

    def _stop(self, children: dict[str, subprocess.Popen]) -> None:
        # SIGINT is what both runserver and qcluster treat as "shut down cleanly".
        for child in children.values():
            _signal_group(child, signal.SIGINT)
        deadline = time.monotonic() + GRACE_SECONDS
        for child in children.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=max(deadline - time.monotonic(), 0.1))
        # Whatever is left in the groups (a hung worker, an orphaned grandchild) is killed.
        for child in children.values():
            _signal_group(child, signal.SIGKILL)
            child.wait()


def _accepts_connections(addr: str) -> bool:
    host, _, port = addr.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]") or "127.0.0.1", int(port)), timeout=0.2):
            return True
    except (OSError, ValueError):
        return False


def _signal_group(child: subprocess.Popen, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, signum)
