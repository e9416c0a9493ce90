"""Wire-level helpers both network providers share: error kinds from HTTP statuses,
Retry-After, structured answers, keeping keys out of messages."""

from __future__ import annotations

import email.utils
import json
import re
from datetime import UTC, datetime
from typing import Any

from agents.llm.types import ErrorKind, LLMError


def kind_for_status(status: int) -> ErrorKind:
    if status == 429:
        return "rate_limit"
    if status in (401, 402, 403):
        return "auth"
    if status == 408:
        return "timeout"
    if status == 409 or status >= 500:  # 529: Anthropic overloaded
        return "server"
    return "bad_request"


def retry_after_seconds(headers: Any) -> float | None:
    """The wait a 429/5xx asks for: `retry-after-ms`, else `Retry-After` in seconds or as an
    HTTP date; None when absent or unreadable."""
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def parse_structured(text: str, schema: dict[str, Any]) -> dict[str, Any]:
    """The JSON object of a structured answer, with the schema's required keys."""
    stripped = _FENCE.sub("", text.strip()).strip()
    try:
        data = json.loads(stripped)
    except ValueError:
        raise LLMError("malformed", "The structured answer is not JSON") from None
    if not isinstance(data, dict):
        raise LLMError("malformed", "The structured answer is not a JSON object")
    missing = [key for key in schema.get("required", []) if key not in data]
    if missing:
        raise LLMError("malformed", f"The structured answer lacks {', '.join(missing)}")
    return data


def redact(text: str, secret: str) -> str:
    return text.replace(secret, "[key]") if secret else text


# A ```json fence some compatible servers wrap around structured answers.
_FENCE = re.compile(r"^```[a-zA-Z]*\s*|\s*```$")
