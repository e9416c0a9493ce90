"""Start-up in a fresh process with a clean environment, as a server or an operator sees it."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]


def run(args: list[str], env: dict[str, str] | None = None, timeout: int = 60):
    """Run in a clean environment: only PATH and HOME, plus `env`."""
    clean = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/")}
    return subprocess.run(
        [sys.executable, *args],
        cwd=BASE_DIR,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def production_env(tmp_path) -> dict[str, str]:
    return {
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "prospector.example.com",
        "CSRF_TRUSTED_ORIGINS": "https://prospector.example.com",
        "SITE_URL": "https://prospector.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
        "EMAIL_URL": "smtp://mailer:secret@smtp.example.com:587?tls=1",
        "FIELD_ENCRYPTION_KEYS": "r3mF0K0cF0tqJ6pW3D1rD7dPq8Xb0zj8Y3m7X0u2n1A=",
    }


def test_runserver_refuses_to_start_without_secret_key():
    result = run(["manage.py", "runserver", "--noreload"], {"DEBUG": "0"})
    assert result.returncode != 0
    assert "SECRET_KEY is required when DEBUG is off" in result.stderr


def test_qcluster_refuses_to_start_without_secret_key():
    result = run(["manage.py", "qcluster"], {"DEBUG": "off"})
    assert result.returncode != 0
    assert "SECRET_KEY is required when DEBUG is off" in result.stderr


def test_wsgi_application_refuses_to_load_without_secret_key():
    result = run(["-c", "import config.wsgi"], {"DEBUG": "0"})
    assert result.returncode != 0
    assert "SECRET_KEY is required when DEBUG is off" in result.stderr


def test_offline_commands_run_without_any_environment():
    # CI and developers check migrations without configuring a server.
    result = run(["manage.py", "makemigrations", "--check", "--dry-run"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No changes detected" in result.stdout


def test_a_malformed_boolean_stops_start_up_naming_the_variable():
    result = run(["manage.py", "check"], {"DEBUG": "maybe"})
    assert result.returncode != 0
    assert "DEBUG='maybe' is not a boolean" in result.stderr


def test_check_deploy_asks_for_field_encryption_keys(production_env):
    del production_env["FIELD_ENCRYPTION_KEYS"]
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env)
    assert result.returncode != 0 and "accounts.W001" in result.stderr + result.stdout
    production_env["FIELD_ENCRYPTION_KEYS"] = "not-a-key"
    result = run(["manage.py", "check", "--deploy"], production_env)
    assert result.returncode != 0 and "accounts.E001" in result.stderr + result.stdout


def test_check_deploy_is_clean_with_production_variables(production_env):
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_insists_on_a_real_mail_backend(production_env):
    # Password resets and invitations must reach people: files on a server are not mail.
    del production_env["EMAIL_URL"]
    result = run(["manage.py", "check", "--deploy"], production_env)
    assert result.returncode != 0
    assert "mail.E001" in result.stderr


SHOW_SECURITY = """
import json, django
django.setup()
from django.conf import settings as s
print(json.dumps({
    "DEBUG": s.DEBUG,
    "SECURE_SSL_REDIRECT": s.SECURE_SSL_REDIRECT,
    "SESSION_COOKIE_SECURE": s.SESSION_COOKIE_SECURE,
    "CSRF_COOKIE_SECURE": s.CSRF_COOKIE_SECURE,
    "SECURE_HSTS_SECONDS": s.SECURE_HSTS_SECONDS,
    "SECURE_PROXY_SSL_HEADER": s.SECURE_PROXY_SSL_HEADER,
    "ALLOWED_HOSTS": s.ALLOWED_HOSTS,
}))
"""


def test_production_defaults_are_secure_without_being_asked(production_env):
    import json

    env = {**production_env, "DJANGO_SETTINGS_MODULE": "config.settings"}
    result = run(["-c", SHOW_SECURITY], env)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values == {
        "DEBUG": False,
        "SECURE_SSL_REDIRECT": True,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_SECONDS": 31_536_000,
        "SECURE_PROXY_SSL_HEADER": None,
        "ALLOWED_HOSTS": ["prospector.example.com"],
    }


def test_behind_a_tls_proxy_the_forwarded_protocol_is_trusted_when_told(production_env):
    import json

    env = {
        **production_env,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "TRUST_X_FORWARDED_PROTO": "1",
    }
    result = run(["-c", SHOW_SECURITY], env)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
