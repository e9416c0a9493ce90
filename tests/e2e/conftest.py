"""Browser tests: headless Chromium (Debian's `chromium`) driven by Playwright against
pytest-django's live_server. Without a Chromium binary they are skipped with the reason
printed, except in CI (CI=true), where a missing browser is a failure."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the tests' own ORM calls are still
# synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str | None:
    found = shutil.which("chromium")
    if found:
        return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


@pytest.fixture
def browser_page():
    """A Playwright page; `page.problems` collects console errors and page errors."""
    executable = chromium_path()
    if executable is None:
        reason = "no Chromium binary found (install Debian's chromium: apt-get install chromium)"
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"CI must run the browser tests: {reason}")
        print(f"SKIPPED browser test: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1366, "height": 900})
        page = context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        page.on(
            "console",
            lambda message: problems.append(message.text) if message.type == "error" else None,
        )
        page.problems = problems
        yield page
        # The test body's ORM queries ran inside Playwright's event-loop context, which gets a
        # connection of its own: close it, or the test database cannot be dropped.
        from django.db import connections

        connections.close_all()
        context.close()
        browser.close()
