"""The call shape shared by every provider."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["system", "user", "assistant", "tool"]

# Why a call failed, as the chain sees it. Retryable kinds are retried with backoff on the
# same provider, then the chain moves on; the others move on at once.
ErrorKind = Literal[
    "rate_limit",  # 429
    "server",  # 5xx, overloaded
    "timeout",  # connect or read timeout
    "connection",  # refused, reset, DNS
    "malformed",  # the answer could not be read (bad JSON, wrong shape, schema not met)
    "auth",  # 401/403: the key is wrong or lacks access
    "bad_request",  # 400/404/422: our request or the model name is wrong
    "refused",  # the model declined or the output was cut off before any answer
]
RETRYABLE: frozenset[str] = frozenset(
    {"rate_limit", "server", "timeout", "connection", "malformed"}
)


@dataclass(frozen=True)
class ToolSpec:
    """A function the model may call. `parameters` is a JSON schema of an object."""

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: dict[str, Any]


@dataclass
class Message:
    """One message of a conversation.

    - system: instructions (joined and sent as the provider's system prompt);
    - user: text from the app (web text goes in here, fenced as untrusted data by the caller);
    - assistant: the model's text and/or `tool_calls`;
    - tool: the result of one tool call, `tool_call_id` naming the call it answers.
    """

    role: Role
    content: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_call_id: str = ""


@dataclass
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens, self.output_tokens + other.output_tokens
        )


@dataclass
class Request:
    """What the app asks of a model.

    `schema` (a JSON schema of an object) asks for structured output: the answer's `data`
    is then the parsed object, checked to be an object with the schema's required keys.
    `offline` answers the request without a network when the chain reaches the offline
    provider: a function from this request to a Response (the caller's rules and templates).
    """

    messages: list[Message]
    tools: list[ToolSpec] = field(default_factory=list)
    schema: dict[str, Any] | None = None
    schema_name: str = "result"
    max_tokens: int = 1024
    temperature: float | None = None
    offline: Callable[[Request], Response] | None = None


@dataclass
class Attempt:
    """One try of one provider, kept for the run's record."""

    provider: str
    model: str
    ok: bool
    error_kind: str = ""
    error: str = ""
    status: int | None = None
    latency_ms: int = 0
    waited_ms: int = 0  # backoff slept before this attempt


@dataclass
class Response:
    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    data: dict[str, Any] | None = None
    usage: Usage = field(default_factory=Usage)
    provider: str = ""
    model: str = ""
    stop_reason: str = ""
    latency_ms: int = 0
    attempts: list[Attempt] = field(default_factory=list)


@dataclass(frozen=True)
class ProviderConfig:
    """One link of a fallback chain: which provider, with which key and model.

    `base_url` None lets the official client read OPENAI_BASE_URL / ANTHROPIC_BASE_URL
    from the environment itself (or use its default).
    """

    name: Literal["openai", "anthropic", "offline"]
    model: str
    api_key: str = field(default="", repr=False)
    base_url: str | None = None
    timeout: float = 60.0

    @property
    def usable(self) -> bool:
        return self.name == "offline" or bool(self.api_key)


class LLMError(Exception):
    """A provider call failed; `kind` tells the chain whether to retry."""

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
    ):
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        return self.kind in RETRYABLE
