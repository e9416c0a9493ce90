"""Anthropic, through the official client and the Messages wire format.

`call` makes exactly one attempt (the client's own retries are off): the chain decides about
retrying and falling back from the `LLMError.kind` raised here.

A cut-off answer (stop_reason "max_tokens") is kept when its text is usable on its own
(plain text asked for, some text came). It is "refused" when nothing usable came: no text, a
tool call (its input may be incomplete), or structured output that does not parse. Retrying
would only be cut off again at the same `max_tokens`, so it is not "malformed" (which the
chain retries).
"""

from __future__ import annotations

import functools
import json
import ssl
import time
from typing import Any

import anthropic
import httpx2

from agents.llm.types import (
    LLMError,
    Message,
    ProviderConfig,
    Request,
    Response,
    ToolCall,
    Usage,
)
from agents.llm.wire import kind_for_status, parse_structured, redact, retry_after_seconds

NAME = "anthropic"

_CUT_OFF = frozenset({"max_tokens", "model_context_window_exceeded"})


def call(config: ProviderConfig, request: Request) -> Response:
    """One Messages request; raises LLMError on any failure."""
    if not config.api_key:
        raise LLMError("auth", "No Anthropic API key is configured")
    params = request_params(config.model, request)
    started = time.monotonic()
    try:
        with anthropic.Anthropic(
            api_key=config.api_key,
            base_url=config.base_url,
            timeout=config.timeout,
            max_retries=0,
            http_client=anthropic.DefaultHttpxClient(verify=_tls_context()),
        ) as client:
            message = client.messages.create(**params)
    except anthropic.APIError as exc:
        # `from None`: the client's exception carries the request (and its headers).
        raise _error(exc, config) from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise LLMError("malformed", "Anthropic answered with a body that is not JSON") from None
    latency_ms = int((time.monotonic() - started) * 1000)
    return _response(message, config, request, latency_ms)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # Loading the CA certificates takes ~35 ms, more than the rest of building a client: one
    # context (thread-safe, no sockets) serves every client of the process.
    return httpx2.create_ssl_context()


def request_params(model: str, request: Request) -> dict[str, Any]:
    """The keyword arguments of `messages.create` for `request`."""
    params: dict[str, Any] = {
        "model": model,
        "max_tokens": request.max_tokens,
        "messages": wire_messages(request.messages),
    }
    system = "\n\n".join(m.content for m in request.messages if m.role == "system" and m.content)
    if system:
        params["system"] = system
    if request.tools:
        params["tools"] = [
            {"name": tool.name, "description": tool.description, "input_schema": tool.parameters}
            for tool in request.tools
        ]
    if request.schema is not None:
        params["output_config"] = {"format": {"type": "json_schema", "schema": request.schema}}
    # `request.temperature` is not sent: API version 2026-10-21 (the client's default) answers
    # 400 to any sampling parameter, and the client no longer has them.
    return params


def wire_messages(messages: list[Message]) -> list[dict[str, Any]]:
    """The conversation as alternating user/assistant turns.

    Tool results travel as `tool_result` blocks of a user turn; consecutive ones (and any
    user text right after them) share one turn, as the API requires. A turn of one text
    block is sent in the short form (`"content": "..."`).
    """
    turns: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "system":
            continue
        blocks: list[dict[str, Any]] = []
        if message.role == "tool":
            role = "user"
            blocks.append(
                {
                    "type": "tool_result",
                    "tool_use_id": message.tool_call_id,
                    "content": message.content,
                }
            )
        else:
            role = message.role
            if message.content:  # the API refuses empty text blocks
                blocks.append({"type": "text", "text": message.content})
            if role == "assistant":
                blocks.extend(
                    {"type": "tool_use", "id": tc.id, "name": tc.name, "input": tc.arguments}
                    for tc in message.tool_calls
                )
        if not blocks:
            continue
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    for turn in turns:
        content = turn["content"]
        if len(content) == 1 and content[0]["type"] == "text":
            turn["content"] = content[0]["text"]
    return turns


def _response(message: Any, config: ProviderConfig, request: Request, latency_ms: int) -> Response:
    try:
        blocks = list(message.content)
        stop_reason = message.stop_reason or ""
        usage = message.usage
        model = message.model or config.model
    except (AttributeError, TypeError):
        raise LLMError("malformed", "Anthropic's answer lacks its content") from None
    texts: list[str] = []
    tool_calls: list[ToolCall] = []
    for block in blocks:
        kind = getattr(block, "type", None)
        if kind == "text":
            texts.append(str(block.text))
        elif kind == "tool_use":
            tool_calls.append(_tool_call(block))
    text = "".join(texts)
    if stop_reason == "refusal":
        raise LLMError("refused", "Anthropic's model declined to answer")
    truncated = stop_reason in _CUT_OFF
    cut_off = f"Anthropic's answer was cut off at {request.max_tokens} tokens"
    if truncated and tool_calls:
        raise LLMError("refused", cut_off)
    data = None
    if request.schema is not None and not tool_calls:
        try:
            data = parse_structured(text, request.schema)
        except LLMError:
            if truncated:
                raise LLMError("refused", cut_off) from None
            raise
    elif truncated and not text.strip():
        raise LLMError("refused", cut_off)
    return Response(
        text=text,
        tool_calls=tool_calls,
        data=data,
        usage=_usage(usage),
        provider=NAME,
        model=model,
        stop_reason=stop_reason,
        latency_ms=latency_ms,
    )


def _tool_call(block: Any) -> ToolCall:
    try:
        call_id, name, arguments = block.id, block.name, block.input
    except AttributeError:
        raise LLMError("malformed", "Anthropic sent an incomplete tool_use block") from None
    if not name or not isinstance(arguments, dict):
        raise LLMError("malformed", f"Anthropic's input for {name or 'a tool'} is not an object")
    return ToolCall(id=call_id or "", name=name, arguments=dict(arguments))


def _usage(usage: Any) -> Usage:
    if usage is None:
        return Usage()
    try:
        # Cached prompt tokens are counted apart from input_tokens; all of them were read.
        input_tokens = (
            int(usage.input_tokens or 0)
            + int(getattr(usage, "cache_creation_input_tokens", None) or 0)
            + int(getattr(usage, "cache_read_input_tokens", None) or 0)
        )
        return Usage(input_tokens, int(usage.output_tokens or 0))
    except (AttributeError, TypeError, ValueError):
        raise LLMError("malformed", "Anthropic's usage is not readable") from None


def _error(exc: anthropic.APIError, config: ProviderConfig) -> LLMError:
    if isinstance(exc, anthropic.APITimeoutError):
        return LLMError("timeout", f"Anthropic did not answer within {config.timeout:g} s")
    if isinstance(exc, anthropic.APIConnectionError):
        cause = exc.__cause__
        reason = f" ({type(cause).__name__})" if cause is not None else ""
        return LLMError("connection", f"Could not reach Anthropic{reason}")
    if isinstance(exc, anthropic.APIStatusError):
        status = exc.status_code
        kind = kind_for_status(status)
        if kind == "auth":
            message = f"Anthropic refused the API key or its access ({status})"
        else:
            detail = exc.api_message or exc.type or "no details"
            message = redact(f"Anthropic {status}: {detail}"[:300], config.api_key)
        retry_after = None
        if kind in ("rate_limit", "server"):
            retry_after = retry_after_seconds(exc.response.headers)
        return LLMError(kind, message, status=status, retry_after=retry_after)
    return LLMError("malformed", "Anthropic's answer could not be read")


# The helpers below are the same in openai_provider (kept apart so that importing one
# provider never imports the other's client library).
