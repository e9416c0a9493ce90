"""The leaf library for AI models: one call shape over OpenAI, Anthropic and offline rules.

It imports no project module. Callers pass keys, models, limits and prices in
(`ProviderConfig`, `complete(...)`), and meter what a `Response` says it spent.
"""

from agents.llm.chain import AllProvidersFailed, complete
from agents.llm.pricing import PriceTable
from agents.llm.types import (
    Attempt,
    LLMError,
    Message,
    ProviderConfig,
    Request,
    Response,
    ToolCall,
    ToolSpec,
    Usage,
)

__all__ = [
    "AllProvidersFailed",
    "Attempt",
    "LLMError",
    "Message",
    "PriceTable",
    "ProviderConfig",
    "Request",
    "Response",
    "ToolCall",
    "ToolSpec",
    "Usage",
    "complete",
]
