"""OpenAI, through the official client and the Chat Completions wire format.

`call` makes exactly one attempt (the client's own retries are off): the chain decides about
retrying and falling back from the `LLMError.kind` raised here.

A cut-off answer (finish_reason "length") is kept when its text is usable on its own (plain
text asked for, some text came). It is "refused" when nothing usable came: no text, a tool
call cut mid-arguments, or structured output that does not parse. Retrying would only be cut
off again at the same `max_tokens`, so it is not "malformed" (which the chain retries).
"""

from __future__ import annotations

import functools
import json
import ssl
import time
from typing import Any

import httpx2
import openai

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

NAME = "openai"


def call(config: ProviderConfig, request: Request) -> Response:
    """One Chat Completions request; raises LLMError on any failure."""
    if not config.api_key:
        raise LLMError("auth", "No OpenAI API key is configured")
    params = request_params(config.model, request)
    started = time.monotonic()
    try:
        with openai.OpenAI(
            api_key=config.api_key,
            base_url=config.base_url,
            timeout=config.timeout,
            max_retries=0,
            http_client=openai.DefaultHttpxClient(verify=_tls_context()),
        ) as client:
            completion = client.chat.completions.create(**params)
    except openai.APIError as exc:
        # `from None`: the client's exception carries the request (and its headers).
        raise _error(exc, config) from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise LLMError("malformed", "OpenAI answered with a body that is not JSON") from None
    latency_ms = int((time.monotonic() - started) * 1000)
    return _response(completion, config, request, latency_ms)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # Loading the CA certificates takes ~35 ms, more than the rest of building a client: one
    # context (thread-safe, no sockets) serves every client of the process.
    return httpx2.create_ssl_context()


def request_params(model: str, request: Request) -> dict[str, Any]:
    """The keyword arguments of `chat.completions.create` for `request`."""
    params: dict[str, Any] = {
        "model": model,
        "messages": [_wire_message(m) for m in request.messages],
        # `max_tokens` is deprecated and refused by reasoning models; every current model
        # (and the compatible servers that follow the current API) reads this one.
        "max_completion_tokens": request.max_tokens,
    }
    if request.tools:
        params["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": tool.name,
                    "description": tool.description,
                    "parameters": tool.parameters,
                },
            }
            for tool in request.tools
        ]
    if request.schema is not None:
        params["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": request.schema_name, "schema": request.schema},
        }
    if request.temperature is not None:
        params["temperature"] = request.temperature
    return params


def _wire_message(message: Message) -> dict[str, Any]:
    if message.role == "tool":
        return {"role": "tool", "tool_call_id": message.tool_call_id, "content": message.content}
    if message.role == "assistant" and message.tool_calls:
        return {
            "role": "assistant",
            "content": message.content or None,
            "tool_calls": [
                {
                    "id": tool_call.id,
                    "type": "function",
                    "function": {
                        "name": tool_call.name,
                        "arguments": json.dumps(tool_call.arguments),
                    },
                }
                for tool_call in message.tool_calls
            ],
        }
    return {"role": message.role, "content": message.content}


def _response(
    completion: Any, config: ProviderConfig, request: Request, latency_ms: int
) -> Response:
    try:
        choice = completion.choices[0]
        message = choice.message
        finish_reason = choice.finish_reason or ""
        text = message.content or ""
        refusal = message.refusal
        raw_calls = list(message.tool_calls or [])
        usage = completion.usage
        model = completion.model or config.model
    except (AttributeError, IndexError, KeyError, TypeError):
        raise LLMError("malformed", "OpenAI's answer lacks its choices or message") from None
    if not isinstance(text, str):
        raise LLMError("malformed", "OpenAI's answer content is not text")
    if refusal:
        raise LLMError("refused", f"OpenAI refused: {str(refusal)[:200]}")
    if finish_reason == "content_filter":
        raise LLMError("refused", "OpenAI's content filter stopped the answer")
    truncated = finish_reason == "length"
    if truncated and raw_calls:
        raise LLMError("refused", f"OpenAI's tool call was cut off at {request.max_tokens} tokens")
    tool_calls = [_tool_call(raw) for raw in raw_calls]
    data = None
    if request.schema is not None and not tool_calls:
        try:
            data = parse_structured(text, request.schema)
        except LLMError:
            if truncated:
                raise LLMError(
                    "refused", f"OpenAI's answer was cut off at {request.max_tokens} tokens"
                ) from None
            raise
    elif truncated and not text.strip():
        raise LLMError("refused", f"OpenAI's answer was cut off at {request.max_tokens} tokens")
    return Response(
        text=text,
        tool_calls=tool_calls,
        data=data,
        usage=_usage(usage),
        provider=NAME,
        model=model,
        stop_reason=finish_reason,
        latency_ms=latency_ms,
    )


def _tool_call(raw: Any) -> ToolCall:
    try:
        kind, call_id = raw.type, raw.id
        name, arguments = raw.function.name, raw.function.arguments
    except AttributeError:
        raise LLMError("malformed", "OpenAI sent a tool call without a function") from None
    if kind != "function" or not name:
        raise LLMError("malformed", f"OpenAI sent an unexpected tool call ({kind})")
    try:
        parsed = json.loads(arguments) if arguments else {}
    except (TypeError, ValueError):
        raise LLMError("malformed", f"OpenAI's arguments for {name} are not JSON") from None
    if not isinstance(parsed, dict):
        raise LLMError("malformed", f"OpenAI's arguments for {name} are not an object")
    return ToolCall(id=call_id or "", name=name, arguments=parsed)


def _usage(usage: Any) -> Usage:
    # Compatible servers may leave usage out; OpenAI itself always sends it.
    if usage is None:
        return Usage()
    try:
        return Usage(int(usage.prompt_tokens or 0), int(usage.completion_tokens or 0))
    except (AttributeError, TypeError, ValueError):
        raise LLMError("malformed", "OpenAI's usage is not readable") from None


def _error(exc: openai.APIError, config: ProviderConfig) -> LLMError:
    if isinstance(exc, openai.APITimeoutError):
        return LLMError("timeout", f"OpenAI did not answer within {config.timeout:g} s")
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__
        reason = f" ({type(cause).__name__})" if cause is not None else ""
        return LLMError("connection", f"Could not reach OpenAI{reason}")
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        kind = kind_for_status(status)
        if kind == "auth":
            # OpenAI echoes (part of) a wrong key in its message: never pass it on.
            message = f"OpenAI refused the API key or its access ({status})"
        else:
            body = exc.body if isinstance(exc.body, dict) else {}
            detail = str(body.get("message") or body.get("code") or "no details")
            message = redact(f"OpenAI {status}: {detail}"[:300], config.api_key)
        retry_after = None
        if kind in ("rate_limit", "server"):
            retry_after = retry_after_seconds(exc.response.headers)
        return LLMError(kind, message, status=status, retry_after=retry_after)
    return LLMError("malformed", "OpenAI's answer could not be read")


# The helpers below are the same in anthropic_provider (kept apart so that importing one
# provider never imports the other's client library).
