"""A local fake of the OpenAI and Anthropic HTTP APIs, for the official clients to talk to.

One server on 127.0.0.1 answers both `POST /v1/chat/completions` (OpenAI Chat Completions)
and `POST /v1/messages` (Anthropic Messages) in their real wire formats, and records every
request. Each API is scripted through `server.openai` / `server.anthropic`:

    server.openai.reply_text("Hello", usage=(12, 34))       # queued, answered in order
    server.anthropic.error(429, retry_after="1")
    server.anthropic.responder = lambda body: server.anthropic.make_text("...")

The queue is used first; when it is empty the `responder` (if set) builds the reply from the
request body; with neither, the server answers 400 "nothing scripted", which the providers
report as a bad request (not retried, so a missing script fails fast). A responder that
raises gets the same 400, and its exception is kept in `server.errors`.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from agents.llm.types import ProviderConfig

OPENAI_MODEL = "gpt-test"
ANTHROPIC_MODEL = "claude-test"
TEST_KEY = "sk-test-0123456789abcdef"


@dataclass
class Recorded:
    api: str  # "openai", "anthropic", or "" for an unknown path
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: dict[str, Any] | None  # the parsed JSON body (None if it was not JSON)
    raw: bytes


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"{}"
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    delay: float = 0.0  # seconds slept before the status line


def _echo_model(reply: Reply, default: str, body: dict[str, Any]) -> Reply:
    """As the real APIs do, an answer names the model that was asked for, unless the reply
    was scripted with a model of its own."""
    if reply.status != 200 or not isinstance(body.get("model"), str):
        return reply
    try:
        payload = json.loads(reply.body)
    except ValueError:
        return reply
    if isinstance(payload, dict) and payload.get("model") == default:
        payload["model"] = body["model"]
        reply.body = json.dumps(payload).encode()
    return reply


Responder = Callable[[dict[str, Any]], "Reply | str"]


def _json_reply(status: int, payload: Any, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status=status, body=json.dumps(payload).encode(), headers=dict(headers or {}))


def _retry_headers(retry_after: str | None, retry_after_ms: str | None) -> dict[str, str]:
    headers = {}
    if retry_after is not None:
        headers["retry-after"] = retry_after
    if retry_after_ms is not None:
        headers["retry-after-ms"] = retry_after_ms
    return headers


class ApiScript:
    """The script of one API: a FIFO queue of replies, then an optional responder."""

    api = ""
    model = ""

    def __init__(self, server: FakeLLMServer):
        self._server = server
        self._queue: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.responder: Responder | None = None

    # -- scripting -----------------------------------------------------------------------

    def queue(self, *replies: Reply) -> None:
        with self._lock:
            self._queue.extend(replies)

    def reply_text(self, text: str, **options: Any) -> Reply:
        return self._queued(self.make_text(text, **options))

    def reply_tool_call(self, name: str, args: dict[str, Any], **options: Any) -> Reply:
        return self._queued(self.make_tool_calls([(name, args)], **options))

    def reply_tool_calls(self, calls: list[tuple[str, dict[str, Any]]], **options: Any) -> Reply:
        return self._queued(self.make_tool_calls(calls, **options))

    def reply_json(self, obj: Any, **options: Any) -> Reply:
        return self._queued(self.make_json(obj, **options))

    def error(
        self,
        status: int,
        message: str = "",
        *,
        retry_after: str | None = None,
        retry_after_ms: str | None = None,
        error_type: str | None = None,
    ) -> Reply:
        return self._queued(
            self.make_error(
                status,
                message,
                retry_after=retry_after,
                retry_after_ms=retry_after_ms,
                error_type=error_type,
            )
        )

    def malformed(self, body: bytes | None = None, content_type: str = "application/json") -> Reply:
        """A 200 whose body cannot be read: cut-off JSON by default, or `body` as given."""
        return self._queued(self.make_malformed(body, content_type))

    def slow(self, seconds: float, then: Reply | None = None) -> Reply:
        """Answer `then` (a plain text answer by default) only after `seconds`."""
        reply = then or self.make_text("late answer")
        reply.delay = seconds
        return self._queued(reply)

    def _queued(self, reply: Reply) -> Reply:
        self.queue(reply)
        return reply

    # -- what was asked ------------------------------------------------------------------

    @property
    def requests(self) -> list[Recorded]:
        return [r for r in self._server.requests if r.api == self.api]

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [r.body for r in self.requests if r.body is not None]

    @property
    def last_body(self) -> dict[str, Any]:
        bodies = self.bodies
        assert bodies, f"no {self.api} request was received"
        return bodies[-1]

    def config(self, **overrides: Any) -> ProviderConfig:
        """A ProviderConfig pointed at this fake (test key, test model, 5 s timeout)."""
        base_url = (
            self._server.openai_base_url
            if self.api == "openai"
            else self._server.anthropic_base_url
        )
        values: dict[str, Any] = {
            "name": self.api,
            "model": self.model,
            "api_key": TEST_KEY,
            "base_url": base_url,
            "timeout": 5.0,
        }
        values.update(overrides)
        return ProviderConfig(**values)

    # -- replies (built, not queued; for responders) -------------------------------------

    def make_text(self, text: str, **options: Any) -> Reply:
        raise NotImplementedError

    def make_tool_calls(self, calls: list[tuple[str, dict[str, Any]]], **options: Any) -> Reply:
        raise NotImplementedError

    def make_tool_call(self, name: str, args: dict[str, Any], **options: Any) -> Reply:
        return self.make_tool_calls([(name, args)], **options)

    def make_json(self, obj: Any, **options: Any) -> Reply:
        return self.make_text(json.dumps(obj), **options)

    def make_error(
        self,
        status: int,
        message: str = "",
        *,
        retry_after: str | None = None,
        retry_after_ms: str | None = None,
        error_type: str | None = None,
    ) -> Reply:
        raise NotImplementedError

    def make_malformed(
        self, body: bytes | None = None, content_type: str = "application/json"
    ) -> Reply:
        raise NotImplementedError

    # -- serving -------------------------------------------------------------------------

    def _next(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
        if self.responder is not None:
            try:
                reply = self.responder(body)
            except Exception as exc:
                # Surfaced as a 400 (not retried), and kept for the test to re-raise.
                self._server.errors.append(exc)
                return self.make_error(400, f"fake {self.api} responder raised {exc!r}")
            return self.make_text(reply) if isinstance(reply, str) else reply
        return self.make_error(400, f"fake {self.api} server: nothing scripted for this request")


class OpenAIScript(ApiScript):
    """Chat Completions: `POST /v1/chat/completions`."""

    api = "openai"
    model = OPENAI_MODEL

    def _completion(
        self,
        message: dict[str, Any],
        finish_reason: str,
        usage: tuple[int, int],
        model: str | None,
    ) -> Reply:
        prompt, completion = usage
        return _json_reply(
            200,
            {
                "id": f"chatcmpl-{next(self._ids)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model or self.model,
                "choices": [
                    {
                        "index": 0,
                        "message": message,
                        "logprobs": None,
                        "finish_reason": finish_reason,
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt,
                    "completion_tokens": completion,
                    "total_tokens": prompt + completion,
                },
                "service_tier": "default",
                "system_fingerprint": "fp_test",
            },
            {"x-request-id": f"req_{next(self._ids)}"},
        )

    def make_text(
        self,
        text: str | None,
        *,
        usage: tuple[int, int] = (10, 5),
        finish_reason: str = "stop",
        model: str | None = None,
        refusal: str | None = None,
    ) -> Reply:
        message = {"role": "assistant", "content": text, "refusal": refusal, "annotations": []}
        return self._completion(message, finish_reason, usage, model)

    def make_tool_calls(
        self,
        calls: list[tuple[str, dict[str, Any]]],
        *,
        text: str | None = None,
        usage: tuple[int, int] = (10, 5),
        finish_reason: str = "tool_calls",
        model: str | None = None,
        ids: list[str] | None = None,
        raw_arguments: list[str] | None = None,
    ) -> Reply:
        """`raw_arguments` replaces the JSON-encoded arguments (to send broken ones)."""
        tool_calls = []
        for i, (name, args) in enumerate(calls):
            arguments = raw_arguments[i] if raw_arguments else json.dumps(args)
            tool_calls.append(
                {
                    "id": ids[i] if ids else f"call_{next(self._ids)}",
                    "type": "function",
                    "function": {"name": name, "arguments": arguments},
                }
            )
        message = {
            "role": "assistant",
            "content": text,
            "refusal": None,
            "annotations": [],
            "tool_calls": tool_calls,
        }
        return self._completion(message, finish_reason, usage, model)

    def make_error(
        self,
        status: int,
        message: str = "",
        *,
        retry_after: str | None = None,
        retry_after_ms: str | None = None,
        error_type: str | None = None,
    ) -> Reply:
        defaults = {
            400: ("invalid_request_error", None, "Invalid request."),
            401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
            403: ("invalid_request_error", "unsupported_country_region_territory", "Forbidden."),
            404: ("invalid_request_error", "model_not_found", "The model does not exist."),
            429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests."),
        }
        kind, code, text = defaults.get(status, ("server_error", None, "The server had an error."))
        payload = {
            "error": {
                "message": message or text,
                "type": error_type or kind,
                "param": None,
                "code": code,
            }
        }
        headers = _retry_headers(retry_after, retry_after_ms)
        headers["x-request-id"] = f"req_{next(self._ids)}"
        return _json_reply(status, payload, headers)

    def make_malformed(
        self, body: bytes | None = None, content_type: str = "application/json"
    ) -> Reply:
        broken = b'{"id": "chatcmpl-broken", "object": "chat.completion", "choices": [{"ind'
        return Reply(body=broken if body is None else body, content_type=content_type)


class AnthropicScript(ApiScript):
    """Messages: `POST /v1/messages`."""

    api = "anthropic"
    model = ANTHROPIC_MODEL

    def _message(
        self,
        content: list[dict[str, Any]],
        stop_reason: str,
        usage: tuple[int, int],
        model: str | None,
        cache: tuple[int, int] | None,
    ) -> Reply:
        input_tokens, output_tokens = usage
        usage_body: dict[str, Any] = {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "cache_creation_input_tokens": cache[0] if cache else 0,
            "cache_read_input_tokens": cache[1] if cache else 0,
            "service_tier": "standard",
        }
        return _json_reply(
            200,
            {
                "id": f"msg_{next(self._ids):024d}",
                "type": "message",
                "role": "assistant",
                "model": model or self.model,
                "content": content,
                "stop_reason": stop_reason,
                "stop_sequence": None,
                "usage": usage_body,
            },
            {"request-id": f"req_{next(self._ids):024d}"},
        )

    def make_text(
        self,
        text: str,
        *,
        usage: tuple[int, int] = (10, 5),
        stop_reason: str = "end_turn",
        model: str | None = None,
        cache: tuple[int, int] | None = None,
    ) -> Reply:
        """`cache` = (cache_creation_input_tokens, cache_read_input_tokens)."""
        content = [{"type": "text", "text": text}] if text else []
        return self._message(content, stop_reason, usage, model, cache)

    def make_tool_calls(
        self,
        calls: list[tuple[str, dict[str, Any]]],
        *,
        text: str = "",
        usage: tuple[int, int] = (10, 5),
        stop_reason: str = "tool_use",
        model: str | None = None,
        ids: list[str] | None = None,
        cache: tuple[int, int] | None = None,
    ) -> Reply:
        content: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
        for i, (name, args) in enumerate(calls):
            content.append(
                {
                    "type": "tool_use",
                    "id": ids[i] if ids else f"toolu_{next(self._ids):024d}",
                    "name": name,
                    "input": args,
                }
            )
        return self._message(content, stop_reason, usage, model, cache)

    def make_error(
        self,
        status: int,
        message: str = "",
        *,
        retry_after: str | None = None,
        retry_after_ms: str | None = None,
        error_type: str | None = None,
    ) -> Reply:
        types = {
            400: "invalid_request_error",
            401: "authentication_error",
            403: "permission_error",
            404: "not_found_error",
            413: "request_too_large",
            429: "rate_limit_error",
            504: "timeout_error",
            529: "overloaded_error",
        }
        kind = error_type or types.get(status, "api_error")
        payload = {
            "type": "error",
            "error": {"type": kind, "message": message or kind.replace("_", " ").capitalize()},
            "request_id": f"req_{next(self._ids):024d}",
        }
        headers = _retry_headers(retry_after, retry_after_ms)
        headers["request-id"] = payload["request_id"]
        return _json_reply(status, payload, headers)

    def make_malformed(
        self, body: bytes | None = None, content_type: str = "application/json"
    ) -> Reply:
        broken = b'{"id": "msg_broken", "type": "message", "content": [{"type": "te'
        return Reply(body=broken if body is None else body, content_type=content_type)


class FakeLLMServer:
    """`with FakeLLMServer() as server:`; point clients at `openai_base_url` and
    `anthropic_base_url`; read `server.requests` (or `server.openai.requests`) after."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.errors: list[Exception] = []  # raised by responders
        self.openai = OpenAIScript(self)
        self.anthropic = AnthropicScript(self)
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        assert self._httpd is not None, "the server is not running"
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def openai_base_url(self) -> str:
        return f"{self.url}/v1"

    @property
    def anthropic_base_url(self) -> str:
        return self.url

    def _reply_for(self, recorded: Recorded) -> Reply:
        if recorded.method != "POST":
            return _json_reply(405, {"error": {"message": "Method not allowed"}})
        if recorded.api == "":
            return _json_reply(404, {"error": {"message": f"No route {recorded.path}"}})
        script = self.openai if recorded.api == "openai" else self.anthropic
        if recorded.body is None:
            return script.make_error(400, "The request body is not valid JSON.")
        return _echo_model(script._next(recorded.body), script.model, recorded.body)

    def start(self) -> FakeLLMServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = None
                path = self.path.split("?", 1)[0]
                api = {"/v1/chat/completions": "openai", "/v1/messages": "anthropic"}.get(path, "")
                recorded = Recorded(
                    api=api,
                    method=self.command,
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body if isinstance(body, dict) else None,
                    raw=raw,
                )
                server.requests.append(recorded)
                reply = server._reply_for(recorded)
                if reply.delay and server._stopping.wait(reply.delay):
                    self.close_connection = True
                    return
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(reply.body)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(reply.body)

            def handle_one_request(self) -> None:
                try:
                    super().handle_one_request()
                except OSError:  # the client gave up (a timeout test) or went away
                    self.close_connection = True

            do_GET = do_POST = do_PUT = do_DELETE = _handle

            def log_message(self, format: str, *args: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address) -> None:
                pass

        self._httpd = Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> FakeLLMServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
