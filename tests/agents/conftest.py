"""Fixtures for the agents tests: a local fake of the OpenAI and Anthropic APIs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.agents.llm_servers import FakeLLMServer


@pytest.fixture
def llm_server() -> Iterator[FakeLLMServer]:
    """A fresh fake server per test; `llm_server.openai` / `.anthropic` script it.

    A responder that raised fails the test at teardown (clear `llm_server.errors` in a test
    that expects it)."""
    with FakeLLMServer() as server:
        yield server
    if server.errors:
        raise server.errors[0]
