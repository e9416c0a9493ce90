"""Retries and fallback: one request, tried down a chain of providers until one answers."""

from __future__ import annotations

import importlib
import random
import time
from collections.abc import Callable, Sequence

from agents.llm.types import Attempt, LLMError, ProviderConfig, Request, Response

# Waits longer than this are not slept through: the chain moves to the next provider.
MAX_WAIT_SECONDS = 30.0

_MODULES = {
    "openai": "agents.llm.openai_provider",
    "anthropic": "agents.llm.anthropic_provider",
    "offline": "agents.llm.offline",
}


class AllProvidersFailed(Exception):
    """Every usable provider of the chain failed; `attempts` says how each try went."""

    def __init__(self, attempts: list[Attempt], message: str = ""):
        self.attempts = attempts
        if not message:
            if attempts:
                last = attempts[-1]
                message = f"No AI provider answered (last: {last.provider}: {last.error})"
            else:
                message = "No AI provider is configured with a key"
        super().__init__(message)


def provider_call(name: str) -> Callable[[ProviderConfig, Request], Response]:
    if name not in _MODULES:
        raise ValueError(f"Unknown AI provider {name!r}")
    return importlib.import_module(_MODULES[name]).call


def backoff_seconds(error: LLMError, retry: int, base: float) -> float:
    """The wait before retry number `retry` (1-based): the server's Retry-After when it
    sent one, else exponential backoff with jitter."""
    if error.retry_after is not None:
        return max(0.0, error.retry_after)
    return base * (2 ** (retry - 1)) * (1 + random.random() / 2)


def complete(
    request: Request,
    chain: Sequence[ProviderConfig],
    *,
    retries: int = 2,
    backoff: float = 0.5,
    deadline: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Response:
    """The first answer down `chain`.

    Providers without a key are passed over. A retryable failure (429, 5xx, timeout,
    connection, malformed answer) is retried up to `retries` times on the same provider,
    waiting as the server asks (Retry-After) or with exponential backoff; then, or at once
    for the other failures, the next provider is tried. `deadline` (a `clock()` value) stops
    waiting and trying when reached. The response carries every attempt made.
    """
    attempts: list[Attempt] = []
    for config in chain:
        if not config.usable:
            continue
        call = provider_call(config.name)
        waited = 0.0
        for attempt_no in range(retries + 1):
            if deadline is not None and clock() >= deadline:
                raise AllProvidersFailed(attempts, "The time limit passed before an AI answer")
            started = clock()
            try:
                response = call(config, request)
            except LLMError as error:
                latency = int((clock() - started) * 1000)
                attempts.append(
                    Attempt(
                        provider=config.name,
                        model=config.model,
                        ok=False,
                        error_kind=error.kind,
                        error=str(error)[:300],
                        status=error.status,
                        latency_ms=latency,
                        waited_ms=int(waited * 1000),
                    )
                )
                if not error.retryable or attempt_no == retries:
                    break
                wait = backoff_seconds(error, attempt_no + 1, backoff)
                if wait > MAX_WAIT_SECONDS:
                    break
                if deadline is not None and clock() + wait >= deadline:
                    break
                sleep(wait)
                waited = wait
                continue
            attempts.append(
                Attempt(
                    provider=config.name,
                    model=response.model or config.model,
                    ok=True,
                    latency_ms=response.latency_ms,
                    waited_ms=int(waited * 1000),
                )
            )
            response.attempts = attempts
            return response
    raise AllProvidersFailed(attempts)
