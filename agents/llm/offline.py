"""The offline provider: no network, no key. The caller's rules answer (`Request.offline`).

Every feature keeps working without an AI key; answers are deterministic and labelled as
rules by the app. Offline answers use no tokens and cost nothing.
"""

from __future__ import annotations

import time

from agents.llm.types import LLMError, ProviderConfig, Request, Response, Usage

MODEL = "rules"


def call(config: ProviderConfig, request: Request) -> Response:
    if request.offline is None:
        raise LLMError("refused", "The offline provider has no rules for this request")
    started = time.monotonic()
    response = request.offline(request)
    response.provider = "offline"
    response.model = config.model or MODEL
    response.usage = Usage()
    response.latency_ms = int((time.monotonic() - started) * 1000)
    return response
