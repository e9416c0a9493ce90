"""Cost of a call from a price table: US dollars per million tokens, per provider and model.

The table is plain data the caller loads (the app keeps it in a settings file). A model is
matched exactly, then by the longest listed prefix (so a dated snapshot such as
"gpt-4o-mini-2024-07-18" takes "gpt-4o-mini"'s price), then by the provider's "*" row if
it has one; the offline provider costs nothing.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from agents.llm.types import Usage

MILLION = Decimal(1_000_000)
CENTS_PER_DOLLAR = Decimal(100)
QUANTUM = Decimal("0.000001")


@dataclass(frozen=True)
class Price:
    input_per_million: Decimal  # dollars
    output_per_million: Decimal


class PriceTable:
    def __init__(self, prices: dict[str, dict[str, Price]]):
        self.prices = prices

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PriceTable:
        prices: dict[str, dict[str, Price]] = {}
        for provider, models in data.items():
            if provider.startswith("_"):
                continue  # comments
            prices[provider] = {
                model: Price(Decimal(str(row["input"])), Decimal(str(row["output"])))
                for model, row in models.items()
            }
        return cls(prices)

    @classmethod
    def load(cls, path: str | Path) -> PriceTable:
        """Read a TOML (or JSON) price file."""
        path = Path(path)
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
        return cls.from_dict(data)

    def price(self, provider: str, model: str) -> Price | None:
        models = self.prices.get(provider, {})
        if model in models:
            return models[model]
        prefixes = [name for name in models if name != "*" and model.startswith(name)]
        if prefixes:
            return models[max(prefixes, key=len)]
        return models.get("*")

    def known(self, provider: str, model: str) -> bool:
        return provider == "offline" or self.price(provider, model) is not None

    def cost_cents(self, provider: str, model: str, usage: Usage) -> Decimal:
        """The call's cost in US cents (six decimals). A model missing from the table costs
        0 here; callers check `known()` to flag it."""
        price = self.price(provider, model)
        if provider == "offline" or price is None:
            return Decimal(0)
        dollars = (
            usage.input_tokens * price.input_per_million
            + usage.output_tokens * price.output_per_million
        ) / MILLION
        return (dollars * CENTS_PER_DOLLAR).quantize(QUANTUM)
