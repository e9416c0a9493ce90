"""Every environment variable the code reads is documented, and the documented example works."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from tests.config.test_startup import run

BASE_DIR = Path(__file__).resolve().parents[2]
# env_str("NAME", ...), env_bool(\n "NAME", ...) and friends, anywhere in the project's code.
ENV_CALL = re.compile(r'\benv_(?:str|bool|int|float|list|choice|rate)\(\s*"([A-Z][A-Z0-9_]*)"')
# Read outside the env_* helpers.
EXTRA = {"DATABASE_URL"}


def variables_read_by_the_code() -> set[str]:
    names = set(EXTRA)
    for path in BASE_DIR.rglob("*.py"):
        relative = path.relative_to(BASE_DIR).parts
        if relative[0] in {".venv", "tests", "bench", "node_modules"} or "migrations" in relative:
            continue
        names |= set(ENV_CALL.findall(path.read_text()))
    return names


def env_example() -> dict[str, str]:
    values = {}
    for line in (BASE_DIR / ".env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip().strip('"')
    return values


def test_the_scan_finds_the_variables_it_should():
    found = variables_read_by_the_code()
    assert {"DEBUG", "SECRET_KEY", "EMAIL_URL", "EMAIL_HOST_PASSWORD", "DEMO_PASSWORD"} <= found


def test_every_variable_is_in_env_example():
    missing = variables_read_by_the_code() - set(env_example())
    assert not missing, f"Document these in .env.example: {sorted(missing)}"


def test_every_variable_is_in_the_readme_configuration_table():
    readme = (BASE_DIR / "README.md").read_text()
    missing = {name for name in variables_read_by_the_code() if f"| `{name}` |" not in readme}
    assert not missing, f"Document these in README.md's configuration tables: {sorted(missing)}"


def test_env_example_values_are_accepted_and_pass_check_deploy(tmp_path):
    env = env_example()
    env |= {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'example.sqlite3'}",
        "EMAIL_URL": "smtp://mailer:secret@smtp.example.com:587?tls=1",
        "FIELD_ENCRYPTION_KEYS": "r3mF0K0cF0tqJ6pW3D1rD7dPq8Xb0zj8Y3m7X0u2n1A=",
    }
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode == 0, result.stdout + result.stderr
