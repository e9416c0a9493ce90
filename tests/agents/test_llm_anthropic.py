"""The Anthropic provider, with the official client talking to the local fake API."""

from __future__ import annotations

import socket
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from agents.llm import anthropic_provider
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
    "additionalProperties": False,
}


def ask(text: str = "Hello?", **options) -> Request:
    return Request(messages=[Message("user", text)], **options)


def failure(server, request: Request | None = None, **config) -> LLMError:
    with pytest.raises(LLMError) as caught:
        anthropic_provider.call(server.anthropic.config(**config), request or ask())
    return caught.value


def test_it_returns_the_text_usage_model_and_stop_reason(llm_server):
    llm_server.anthropic.reply_text("Hi there", usage=(12, 34), model="claude-test-20260101")

    response = anthropic_provider.call(llm_server.anthropic.config(), ask(max_tokens=300))

    assert response.text == "Hi there"
    assert response.tool_calls == []
    assert response.data is None
    assert (response.usage.input_tokens, response.usage.output_tokens) == (12, 34)
    assert response.provider == "anthropic"
    assert response.model == "claude-test-20260101"
    assert response.stop_reason == "end_turn"
    [recorded] = llm_server.anthropic.requests
    assert recorded.path == "/v1/messages"
    # Client 2.x sends the key as a bearer token, with API version 2026-10-21.
    assert recorded.headers["authorization"] == f"Bearer {TEST_KEY}"
    assert recorded.headers["anthropic-version"] == "2026-10-21"
    assert recorded.headers["x-stainless-retry-count"] == "0"
    assert recorded.body == {
        "model": "claude-test",
        "max_tokens": 300,
        "messages": [{"role": "user", "content": "Hello?"}],
    }


def test_cached_prompt_tokens_count_as_input(llm_server):
    llm_server.anthropic.reply_text("ok", usage=(10, 7), cache=(100, 1000))

    response = anthropic_provider.call(llm_server.anthropic.config(), ask())

    assert (response.usage.input_tokens, response.usage.output_tokens) == (1110, 7)


def test_system_messages_are_joined_into_the_system_prompt(llm_server):
    llm_server.anthropic.reply_text("ok")

    anthropic_provider.call(
        llm_server.anthropic.config(),
        Request(
            [
                Message("system", "You research companies."),
                Message("system", "Answer briefly."),
                Message("user", "Who is Acme?"),
            ],
        ),
    )

    body = llm_server.anthropic.last_body
    assert body["system"] == "You research companies.\n\nAnswer briefly."
    assert body["messages"] == [{"role": "user", "content": "Who is Acme?"}]


def test_temperature_is_never_sent(llm_server):
    # API version 2026-10-21 answers 400 to any sampling parameter, even temperature 1.0.
    llm_server.anthropic.reply_text("ok")

    anthropic_provider.call(llm_server.anthropic.config(), ask(temperature=0.3))

    assert "temperature" not in llm_server.anthropic.last_body


def test_without_system_messages_no_system_prompt_is_sent(llm_server):
    llm_server.anthropic.reply_text("ok")

    anthropic_provider.call(llm_server.anthropic.config(), ask())

    assert "system" not in llm_server.anthropic.last_body


def test_a_tool_call_round_trip_merges_the_tool_results_into_one_user_turn(llm_server):
    llm_server.anthropic.reply_tool_calls(
        [("lookup_company", {"domain": "acme.com"}), ("lookup_company", {"domain": "globex.com"})],
        text="Looking both up.",
        ids=["toolu_a", "toolu_b"],
        usage=(50, 20),
    )
    conversation = [
        Message("system", "You research companies."),
        Message("user", "Compare Acme and Globex."),
    ]

    first = anthropic_provider.call(llm_server.anthropic.config(), Request(conversation, [LOOKUP]))

    assert first.tool_calls == [
        ToolCall("toolu_a", "lookup_company", {"domain": "acme.com"}),
        ToolCall("toolu_b", "lookup_company", {"domain": "globex.com"}),
    ]
    assert first.text == "Looking both up."
    assert first.stop_reason == "tool_use"
    assert llm_server.anthropic.last_body["tools"] == [
        {
            "name": "lookup_company",
            "description": "Look a company up by its domain.",
            "input_schema": LOOKUP.parameters,
        }
    ]

    llm_server.anthropic.reply_text("Acme is bigger.")
    conversation += [
        Message("assistant", first.text, tool_calls=first.tool_calls),
        Message("tool", '{"employees": 500}', tool_call_id="toolu_a"),
        Message("tool", '{"employees": 50}', tool_call_id="toolu_b"),
    ]
    second = anthropic_provider.call(llm_server.anthropic.config(), Request(conversation, [LOOKUP]))

    assert second.text == "Acme is bigger."
    body = llm_server.anthropic.last_body
    assert body["system"] == "You research companies."
    assert body["messages"] == [
        {"role": "user", "content": "Compare Acme and Globex."},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Looking both up."},
                {
                    "type": "tool_use",
                    "id": "toolu_a",
                    "name": "lookup_company",
                    "input": {"domain": "acme.com"},
                },
                {
                    "type": "tool_use",
                    "id": "toolu_b",
                    "name": "lookup_company",
                    "input": {"domain": "globex.com"},
                },
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_a", "content": '{"employees": 500}'},
                {"type": "tool_result", "tool_use_id": "toolu_b", "content": '{"employees": 50}'},
            ],
        },
    ]


def test_user_text_after_tool_results_joins_their_turn(llm_server):
    llm_server.anthropic.reply_text("ok")
    call = ToolCall("toolu_1", "lookup_company", {"domain": "acme.com"})

    anthropic_provider.call(
        llm_server.anthropic.config(),
        Request(
            [
                Message("user", "Go"),
                Message("assistant", tool_calls=[call]),
                Message("tool", "500 people", tool_call_id="toolu_1"),
                Message("user", "Now summarise."),
            ]
        ),
    )

    messages = llm_server.anthropic.last_body["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert messages[1]["content"] == [
        {
            "type": "tool_use",
            "id": "toolu_1",
            "name": "lookup_company",
            "input": {"domain": "acme.com"},
        }
    ]
    assert messages[2]["content"] == [
        {"type": "tool_result", "tool_use_id": "toolu_1", "content": "500 people"},
        {"type": "text", "text": "Now summarise."},
    ]


def test_structured_output_is_asked_for_and_parsed(llm_server):
    llm_server.anthropic.reply_json({"name": "Acme", "score": 7})

    response = anthropic_provider.call(llm_server.anthropic.config(), ask(schema=SCHEMA))

    assert response.data == {"name": "Acme", "score": 7}
    assert llm_server.anthropic.last_body["output_config"] == {
        "format": {"type": "json_schema", "schema": SCHEMA}
    }


def test_structured_output_missing_a_required_key_is_malformed(llm_server):
    llm_server.anthropic.reply_json({"score": 7})

    error = failure(llm_server, ask(schema=SCHEMA))

    assert error.kind == "malformed"
    assert "name" in str(error)


@pytest.mark.parametrize("text", ["Sure! Here it is.", "42"])
def test_structured_output_that_is_not_a_json_object_is_malformed(llm_server, text):
    llm_server.anthropic.reply_text(text)

    assert failure(llm_server, ask(schema=SCHEMA)).kind == "malformed"


def test_a_cut_off_answer_with_no_text_is_refused(llm_server):
    llm_server.anthropic.reply_text("", stop_reason="max_tokens")

    error = failure(llm_server, ask(max_tokens=5))

    assert error.kind == "refused"
    assert not error.retryable


def test_a_cut_off_structured_answer_is_refused_not_malformed(llm_server):
    llm_server.anthropic.reply_text('{"name": "Ac', stop_reason="max_tokens")

    assert failure(llm_server, ask(schema=SCHEMA)).kind == "refused"


def test_a_cut_off_tool_call_is_refused(llm_server):
    llm_server.anthropic.reply_tool_call(
        "lookup_company", {"domain": "ac"}, stop_reason="max_tokens"
    )

    assert failure(llm_server, ask(tools=[LOOKUP])).kind == "refused"


def test_a_cut_off_plain_text_answer_is_kept(llm_server):
    llm_server.anthropic.reply_text("A long story that", stop_reason="max_tokens")

    response = anthropic_provider.call(llm_server.anthropic.config(), ask())

    assert (response.text, response.stop_reason) == ("A long story that", "max_tokens")


def test_a_refusal_stop_is_refused(llm_server):
    llm_server.anthropic.reply_text("", stop_reason="refusal")

    assert failure(llm_server).kind == "refused"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [({"retry_after": "2"}, 2.0), ({"retry_after_ms": "1500", "retry_after": "9"}, 1.5)],
)
def test_a_rate_limit_says_how_long_to_wait(llm_server, headers, expected):
    llm_server.anthropic.error(429, **headers)

    error = failure(llm_server)

    assert (error.kind, error.status, error.retry_after) == ("rate_limit", 429, expected)
    assert error.retryable


def test_a_rate_limit_retry_after_may_be_an_http_date(llm_server):
    when = datetime.now(UTC) + timedelta(seconds=30)
    llm_server.anthropic.error(429, retry_after=format_datetime(when, usegmt=True))

    error = failure(llm_server)

    assert error.kind == "rate_limit"
    assert 27 <= error.retry_after <= 30


def test_a_retry_after_date_in_the_past_means_no_wait(llm_server):
    llm_server.anthropic.error(429, retry_after="Wed, 21 Oct 2015 07:28:00 GMT")

    assert failure(llm_server).retry_after == 0.0


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retryable(llm_server, status):
    llm_server.anthropic.error(status)

    error = failure(llm_server)

    assert (error.kind, error.status, error.retry_after) == ("server", status, None)
    assert error.retryable


def test_overloaded_is_a_server_error_with_its_retry_after(llm_server):
    llm_server.anthropic.error(529, "Overloaded", retry_after="3")

    error = failure(llm_server)

    assert (error.kind, error.status, error.retry_after) == ("server", 529, 3.0)
    assert "Overloaded" in str(error)


@pytest.mark.parametrize("status", [400, 404, 422])
def test_request_errors_are_bad_requests(llm_server, status):
    llm_server.anthropic.error(status, "model: claude-nope not found")

    error = failure(llm_server)

    assert (error.kind, error.status) == ("bad_request", status)
    assert not error.retryable
    assert "claude-nope" in str(error)


@pytest.mark.parametrize("status", [401, 403])
def test_an_auth_failure_never_repeats_the_key(llm_server, status):
    llm_server.anthropic.error(status, f"invalid x-api-key {TEST_KEY}")

    error = failure(llm_server)

    assert (error.kind, error.status) == ("auth", status)
    assert not error.retryable
    assert TEST_KEY not in str(error)
    assert TEST_KEY not in repr(error)
    assert error.__cause__ is None
    assert error.__suppress_context__


def test_a_key_echoed_in_another_error_is_redacted(llm_server):
    llm_server.anthropic.error(400, f"Bad header for key {TEST_KEY}")

    error = failure(llm_server)

    assert TEST_KEY not in str(error)
    assert "[key]" in str(error)


def test_no_key_fails_without_a_request(llm_server):
    error = failure(llm_server, api_key="")

    assert error.kind == "auth"
    assert llm_server.requests == []


def test_a_slow_server_times_out(llm_server):
    llm_server.anthropic.slow(1.5)
    started = time.monotonic()

    error = failure(llm_server, timeout=0.2)

    assert error.kind == "timeout"
    assert error.retryable
    assert time.monotonic() - started < 1.0


def test_a_closed_port_is_a_connection_error(llm_server):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    error = failure(llm_server, base_url=f"http://127.0.0.1:{port}")

    assert error.kind == "connection"
    assert error.retryable


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (None, "application/json"),  # cut-off JSON
        (b'{"type": "message", "role": "assistant"}', "application/json"),
        (
            b'{"content": [{"type": "tool_use", "id": "t", "name": "x", "input": [1]}]}',
            "application/json",
        ),
        (b"<html>Bad gateway</html>", "text/html"),
    ],
)
def test_an_unreadable_answer_is_malformed(llm_server, body, content_type):
    llm_server.anthropic.malformed(body, content_type)

    error = failure(llm_server, ask(tools=[LOOKUP]))

    assert error.kind == "malformed"
    assert error.retryable


def test_every_request_carries_the_token_cap(llm_server):
    llm_server.anthropic.reply_text("a")
    llm_server.anthropic.reply_tool_call("lookup_company", {"domain": "acme.com"})
    llm_server.anthropic.reply_json({"name": "Acme", "score": 1})
    config = llm_server.anthropic.config()

    anthropic_provider.call(config, ask(max_tokens=111))
    anthropic_provider.call(config, ask(tools=[LOOKUP], max_tokens=222))
    anthropic_provider.call(config, ask(schema=SCHEMA, max_tokens=333))

    assert [body["max_tokens"] for body in llm_server.anthropic.bodies] == [111, 222, 333]


def test_a_responder_answers_when_the_queue_is_empty(llm_server):
    script = llm_server.anthropic

    def responder(body):
        last = body["messages"][-1]["content"]
        if isinstance(last, list) and last[0]["type"] == "tool_result":
            return "Found it: " + last[0]["content"]
        return script.make_tool_call("lookup_company", {"domain": "acme.com"}, ids=["toolu_9"])

    script.responder = responder
    config = script.config()
    conversation = [Message("user", "Look up Acme")]

    first = anthropic_provider.call(config, Request(conversation, [LOOKUP]))
    conversation += [
        Message("assistant", tool_calls=first.tool_calls),
        Message("tool", "500 people", tool_call_id="toolu_9"),
    ]
    second = anthropic_provider.call(config, Request(conversation, [LOOKUP]))

    assert first.tool_calls[0].arguments == {"domain": "acme.com"}
    assert second.text == "Found it: 500 people"
    assert len(script.requests) == 2
