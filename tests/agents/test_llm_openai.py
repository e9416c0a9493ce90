"""The OpenAI provider, with the official client talking to the local fake API."""

from __future__ import annotations

import socket
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from agents.llm import openai_provider
from agents.llm.types import LLMError, Message, Request, ToolCall, ToolSpec
from tests.agents.llm_servers import TEST_KEY

LOOKUP = ToolSpec(
    name="lookup_company",
    description="Look a company up by its domain.",
    parameters={
        "type": "object",
        "properties": {"domain": {"type": "string"}},
        "required": ["domain"],
    },
)
SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "score": {"type": "integer"}},
    "required": ["name", "score"],
}


def ask(text: str = "Hello?", **options) -> Request:
    return Request(messages=[Message("user", text)], **options)


def failure(server, request: Request | None = None, **config) -> LLMError:
    with pytest.raises(LLMError) as caught:
        openai_provider.call(server.openai.config(**config), request or ask())
    return caught.value


def test_it_returns_the_text_usage_model_and_stop_reason(llm_server):
    llm_server.openai.reply_text("Hi there", usage=(12, 34), model="gpt-test-2026-01-01")

    response = openai_provider.call(llm_server.openai.config(), ask(max_tokens=300))

    assert response.text == "Hi there"
    assert response.tool_calls == []
    assert response.data is None
    assert (response.usage.input_tokens, response.usage.output_tokens) == (12, 34)
    assert response.provider == "openai"
    assert response.model == "gpt-test-2026-01-01"
    assert response.stop_reason == "stop"
    assert response.latency_ms >= 0
    [recorded] = llm_server.openai.requests
    assert recorded.path == "/v1/chat/completions"
    assert recorded.headers["authorization"] == f"Bearer {TEST_KEY}"
    assert recorded.headers["x-stainless-retry-count"] == "0"
    assert recorded.body == {
        "model": "gpt-test",
        "messages": [{"role": "user", "content": "Hello?"}],
        "max_completion_tokens": 300,
    }


def test_temperature_is_sent_only_when_set(llm_server):
    llm_server.openai.reply_text("a")
    llm_server.openai.reply_text("b")

    openai_provider.call(llm_server.openai.config(), ask())
    openai_provider.call(llm_server.openai.config(), ask(temperature=0.2))

    first, second = llm_server.openai.bodies
    assert "temperature" not in first
    assert second["temperature"] == 0.2


def test_a_tool_call_round_trip_sends_the_calls_and_results_back(llm_server):
    llm_server.openai.reply_tool_calls(
        [("lookup_company", {"domain": "acme.com"}), ("lookup_company", {"domain": "globex.com"})],
        ids=["call_a", "call_b"],
        usage=(50, 20),
    )
    conversation = [
        Message("system", "You research companies."),
        Message("user", "Compare Acme and Globex."),
    ]

    first = openai_provider.call(llm_server.openai.config(), Request(conversation, [LOOKUP]))

    assert first.tool_calls == [
        ToolCall("call_a", "lookup_company", {"domain": "acme.com"}),
        ToolCall("call_b", "lookup_company", {"domain": "globex.com"}),
    ]
    assert first.text == ""
    assert first.stop_reason == "tool_calls"
    assert llm_server.openai.last_body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "lookup_company",
                "description": "Look a company up by its domain.",
                "parameters": LOOKUP.parameters,
            },
        }
    ]

    llm_server.openai.reply_text("Acme is bigger.")
    conversation += [
        Message("assistant", "Looking both up.", tool_calls=first.tool_calls),
        Message("tool", '{"employees": 500}', tool_call_id="call_a"),
        Message("tool", '{"employees": 50}', tool_call_id="call_b"),
    ]
    second = openai_provider.call(llm_server.openai.config(), Request(conversation, [LOOKUP]))

    assert second.text == "Acme is bigger."
    assert llm_server.openai.last_body["messages"] == [
        {"role": "system", "content": "You research companies."},
        {"role": "user", "content": "Compare Acme and Globex."},
        {
            "role": "assistant",
            "content": "Looking both up.",
            "tool_calls": [
                {
                    "id": "call_a",
                    "type": "function",
                    "function": {"name": "lookup_company", "arguments": '{"domain": "acme.com"}'},
                },
                {
                    "id": "call_b",
                    "type": "function",
                    "function": {
                        "name": "lookup_company",
                        "arguments": '{"domain": "globex.com"}',
                    },
                },
            ],
        },
        {"role": "tool", "tool_call_id": "call_a", "content": '{"employees": 500}'},
        {"role": "tool", "tool_call_id": "call_b", "content": '{"employees": 50}'},
    ]


def test_an_assistant_turn_with_only_tool_calls_sends_null_content(llm_server):
    llm_server.openai.reply_text("done")
    call = ToolCall("call_1", "lookup_company", {"domain": "acme.com"})

    openai_provider.call(
        llm_server.openai.config(),
        Request(
            [
                Message("user", "Go"),
                Message("assistant", tool_calls=[call]),
                Message("tool", "ok", tool_call_id="call_1"),
            ]
        ),
    )

    assert llm_server.openai.last_body["messages"][1]["content"] is None


def test_tool_arguments_that_are_not_json_are_malformed(llm_server):
    llm_server.openai.reply_tool_calls(
        [("lookup_company", {})], raw_arguments=['{"domain": "acme.com"']
    )

    error = failure(llm_server, ask(tools=[LOOKUP]))

    assert error.kind == "malformed"
    assert error.retryable


def test_structured_output_is_asked_for_and_parsed(llm_server):
    llm_server.openai.reply_json({"name": "Acme", "score": 7, "extra": True})

    response = openai_provider.call(
        llm_server.openai.config(), ask(schema=SCHEMA, schema_name="company_fit")
    )

    assert response.data == {"name": "Acme", "score": 7, "extra": True}
    assert llm_server.openai.last_body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "company_fit", "schema": SCHEMA},
    }


def test_structured_output_missing_a_required_key_is_malformed(llm_server):
    llm_server.openai.reply_json({"name": "Acme"})

    error = failure(llm_server, ask(schema=SCHEMA))

    assert error.kind == "malformed"
    assert "score" in str(error)


@pytest.mark.parametrize("text", ["not json at all", '["a", "list"]'])
def test_structured_output_that_is_not_a_json_object_is_malformed(llm_server, text):
    llm_server.openai.reply_text(text)

    assert failure(llm_server, ask(schema=SCHEMA)).kind == "malformed"


def test_a_cut_off_answer_with_no_text_is_refused(llm_server):
    llm_server.openai.reply_text(None, finish_reason="length")

    error = failure(llm_server, ask(max_tokens=5))

    assert error.kind == "refused"
    assert not error.retryable


def test_a_cut_off_structured_answer_is_refused_not_malformed(llm_server):
    llm_server.openai.reply_text('{"name": "Ac', finish_reason="length")

    assert failure(llm_server, ask(schema=SCHEMA)).kind == "refused"


def test_a_cut_off_tool_call_is_refused(llm_server):
    llm_server.openai.reply_tool_calls(
        [("lookup_company", {})], raw_arguments=['{"domain": "ac'], finish_reason="length"
    )

    assert failure(llm_server, ask(tools=[LOOKUP])).kind == "refused"


def test_a_cut_off_plain_text_answer_is_kept(llm_server):
    llm_server.openai.reply_text("A long story that", finish_reason="length")

    response = openai_provider.call(llm_server.openai.config(), ask())

    assert (response.text, response.stop_reason) == ("A long story that", "length")


def test_a_refusal_is_refused(llm_server):
    llm_server.openai.reply_text(None, refusal="I can't help with that.")

    error = failure(llm_server, ask(schema=SCHEMA))

    assert error.kind == "refused"
    assert "can't help" in str(error)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [({"retry_after": "2"}, 2.0), ({"retry_after_ms": "1500", "retry_after": "9"}, 1.5)],
)
def test_a_rate_limit_says_how_long_to_wait(llm_server, headers, expected):
    llm_server.openai.error(429, **headers)

    error = failure(llm_server)

    assert (error.kind, error.status, error.retry_after) == ("rate_limit", 429, expected)
    assert error.retryable


def test_a_rate_limit_retry_after_may_be_an_http_date(llm_server):
    when = datetime.now(UTC) + timedelta(seconds=30)
    llm_server.openai.error(429, retry_after=format_datetime(when, usegmt=True))

    error = failure(llm_server)

    assert error.kind == "rate_limit"
    assert 27 <= error.retry_after <= 30


def test_a_rate_limit_without_retry_after_leaves_the_wait_to_the_chain(llm_server):
    llm_server.openai.error(429)

    assert failure(llm_server).retry_after is None


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retryable(llm_server, status):
    llm_server.openai.error(status)

    error = failure(llm_server)

    assert (error.kind, error.status, error.retry_after) == ("server", status, None)
    assert error.retryable


def test_a_server_error_keeps_its_retry_after(llm_server):
    llm_server.openai.error(503, retry_after="4")

    assert failure(llm_server).retry_after == 4.0


@pytest.mark.parametrize("status", [400, 404, 422])
def test_request_errors_are_bad_requests(llm_server, status):
    llm_server.openai.error(status, "The model `gpt-nope` does not exist.")

    error = failure(llm_server)

    assert (error.kind, error.status) == ("bad_request", status)
    assert not error.retryable
    assert "does not exist" in str(error)


@pytest.mark.parametrize("status", [401, 403])
def test_an_auth_failure_never_repeats_the_key(llm_server, status):
    llm_server.openai.error(status, f"Incorrect API key provided: {TEST_KEY}.")

    error = failure(llm_server)

    assert (error.kind, error.status) == ("auth", status)
    assert not error.retryable
    assert TEST_KEY not in str(error)
    assert TEST_KEY not in repr(error)
    assert error.__cause__ is None
    assert error.__suppress_context__


def test_a_key_echoed_in_another_error_is_redacted(llm_server):
    llm_server.openai.error(400, f"Bad header for key {TEST_KEY}")

    error = failure(llm_server)

    assert TEST_KEY not in str(error)
    assert "[key]" in str(error)


def test_no_key_fails_without_a_request(llm_server):
    error = failure(llm_server, api_key="")

    assert error.kind == "auth"
    assert llm_server.requests == []


def test_a_slow_server_times_out(llm_server):
    llm_server.openai.slow(1.5)
    started = time.monotonic()

    error = failure(llm_server, timeout=0.2)

    assert error.kind == "timeout"
    assert error.retryable
    assert time.monotonic() - started < 1.0


def test_a_closed_port_is_a_connection_error(llm_server):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    error = failure(llm_server, base_url=f"http://127.0.0.1:{port}/v1")

    assert error.kind == "connection"
    assert error.retryable


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (None, "application/json"),  # cut-off JSON
        (b'{"id": "chatcmpl-1", "object": "chat.completion"}', "application/json"),
        (b'{"choices": []}', "application/json"),
        (b"<html>Bad gateway</html>", "text/html"),
    ],
)
def test_an_unreadable_answer_is_malformed(llm_server, body, content_type):
    llm_server.openai.malformed(body, content_type)

    error = failure(llm_server)

    assert error.kind == "malformed"
    assert error.retryable


def test_every_request_carries_the_token_cap(llm_server):
    llm_server.openai.reply_text("a")
    llm_server.openai.reply_tool_call("lookup_company", {"domain": "acme.com"})
    llm_server.openai.reply_json({"name": "Acme", "score": 1})
    config = llm_server.openai.config()

    openai_provider.call(config, ask(max_tokens=111))
    openai_provider.call(config, ask(tools=[LOOKUP], max_tokens=222))
    openai_provider.call(config, ask(schema=SCHEMA, max_tokens=333))

    caps = [body["max_completion_tokens"] for body in llm_server.openai.bodies]
    assert caps == [111, 222, 333]
    assert not any("max_tokens" in body for body in llm_server.openai.bodies)


def test_a_responder_answers_when_the_queue_is_empty(llm_server):
    script = llm_server.openai

    def responder(body):
        if body["messages"][-1]["role"] == "tool":
            return "Found it: " + body["messages"][-1]["content"]
        return script.make_tool_call("lookup_company", {"domain": "acme.com"}, ids=["call_9"])

    script.responder = responder
    config = script.config()
    conversation = [Message("user", "Look up Acme")]

    first = openai_provider.call(config, Request(conversation, [LOOKUP]))
    conversation += [
        Message("assistant", tool_calls=first.tool_calls),
        Message("tool", "500 people", tool_call_id="call_9"),
    ]
    second = openai_provider.call(config, Request(conversation, [LOOKUP]))

    assert first.tool_calls[0].arguments == {"domain": "acme.com"}
    assert second.text == "Found it: 500 people"
    assert len(script.requests) == 2


def test_an_unscripted_request_is_a_bad_request(llm_server):
    error = failure(llm_server)

    assert error.kind == "bad_request"
    assert "nothing scripted" in str(error)


def test_a_responder_that_raises_is_a_bad_request_and_kept(llm_server):
    def responder(body):
        raise KeyError("tool_calls")

    llm_server.openai.responder = responder

    error = failure(llm_server)

    assert error.kind == "bad_request"
    assert "KeyError" in str(error)
    assert [type(e) for e in llm_server.errors] == [KeyError]
    llm_server.errors.clear()
