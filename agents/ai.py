"""The app's side of the AI layer: which providers an organization's requests go to, with
which keys and models; the price table; the monthly budget and the metering of spend.

`agents.llm` (the leaf library) takes all of this as arguments.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from functools import cache

from django.conf import settings
from django.core.signals import setting_changed
from django.db import transaction
from django.dispatch import receiver
from django.views.decorators.debug import sensitive_variables

from accounts import crypto, usage
from accounts.models import Organization, User
from agents.llm import PriceTable, ProviderConfig, Usage
from agents.models import AISettings, Provider, ProviderKey

SPEND_ACTION = "ai.spend_microdollars"
RUN_ACTION = "agents.run"
NETWORK_PROVIDERS = (Provider.OPENAI, Provider.ANTHROPIC)


class BudgetExceeded(Exception):
    """The organization's AI budget for this month is spent."""

    def __init__(self, budget_cents: int, spent_cents: Decimal):
        self.budget_cents, self.spent_cents = budget_cents, spent_cents
        super().__init__(
            f"This month's AI budget is spent: ${spent_cents / 100:,.2f} of "
            f"${budget_cents / 100:,.2f}. An owner or admin can raise it in Settings > AI; "
            "it renews on the first of the month."
        )

    @property
    def details(self) -> dict:
        return {"budget_cents": self.budget_cents, "spent_cents": str(self.spent_cents)}


@cache
def _prices(path: str) -> PriceTable:
    return PriceTable.load(path)


def prices() -> PriceTable:
    return _prices(settings.AI_PRICES_FILE)


@receiver(setting_changed)
def _reload_prices(*, setting: str, **kwargs: object) -> None:
    if setting == "AI_PRICES_FILE":
        _prices.cache_clear()


def settings_for(organization: Organization) -> AISettings:
    """The organization's AI settings (an unsaved default row when it has none yet)."""
    try:
        return organization.ai_settings
    except AISettings.DoesNotExist:
        return AISettings(organization=organization)


def provider_names(ai_settings: AISettings) -> list[str]:
    raw = ai_settings.providers or ",".join(settings.AI_PROVIDERS)
    names = [name.strip().lower() for name in raw.split(",") if name.strip()]
    return [name for name in dict.fromkeys(names) if name in Provider.values]


def organization_keys(organization: Organization) -> dict[str, str]:
    """The organization's own keys, decrypted (only ever passed to a client)."""
    keys = {}
    for row in ProviderKey.objects.for_org(organization):
        try:
            keys[row.provider] = crypto.decrypt(row.encrypted_key)
        except crypto.InvalidToken:
            continue  # a key under a dropped encryption key: as if none were set
    return keys


def key_sources(organization: Organization) -> dict[str, str]:
    """Where each network provider's key comes from: "organization", "install" or ""."""
    own = set(ProviderKey.objects.for_org(organization).values_list("provider", flat=True))
    install = {"openai": settings.OPENAI_API_KEY, "anthropic": settings.ANTHROPIC_API_KEY}
    return {
        name: "organization" if name in own else ("install" if install[name] else "")
        for name in NETWORK_PROVIDERS
    }


def chain_for(organization: Organization) -> list[ProviderConfig]:
    """The organization's fallback chain, keys filled in; providers without a key are kept
    (the chain passes over them and the run page says so)."""
    ai_settings = settings_for(organization)
    own = organization_keys(organization)
    timeout = settings.AI_TIMEOUT_SECONDS
    chain = []
    for name in provider_names(ai_settings):
        if name == Provider.OPENAI:
            chain.append(
                ProviderConfig(
                    "openai",
                    ai_settings.openai_model or settings.OPENAI_MODEL,
                    api_key=own.get("openai") or settings.OPENAI_API_KEY,
                    base_url=settings.OPENAI_BASE_URL,
                    timeout=timeout,
                )
            )
        elif name == Provider.ANTHROPIC:
            chain.append(
                ProviderConfig(
                    "anthropic",
                    ai_settings.anthropic_model or settings.ANTHROPIC_MODEL,
                    api_key=own.get("anthropic") or settings.ANTHROPIC_API_KEY,
                    base_url=settings.ANTHROPIC_BASE_URL,
                    timeout=timeout,
                )
            )
        else:
            chain.append(ProviderConfig("offline", "rules"))
    return chain


def uses_network_ai(organization: Organization) -> bool:
    return any(c.usable and c.name != "offline" for c in chain_for(organization))


@sensitive_variables("key")
def set_key(
    *, organization: Organization, provider: str, key: str, user: User | None
) -> ProviderKey:
    key = key.strip()
    if provider not in NETWORK_PROVIDERS:
        raise ValueError(f"No key is needed for {provider!r}")
    row, _ = ProviderKey.objects.update_or_create(
        organization=organization,
        provider=provider,
        defaults={
            "encrypted_key": crypto.encrypt(key),
            "hint": crypto.hint(key),
            "created_by": user,
        },
    )
    return row


def remove_key(*, organization: Organization, provider: str) -> bool:
    deleted, _ = ProviderKey.objects.for_org(organization).filter(provider=provider).delete()
    return bool(deleted)


def rotate_keys() -> int:
    """Re-encrypt every stored provider key under the newest FIELD_ENCRYPTION_KEYS key."""
    rows = list(ProviderKey.objects.all())
    for row in rows:
        row.encrypted_key = crypto.rotate(row.encrypted_key)
    ProviderKey.objects.bulk_update(rows, ["encrypted_key"], batch_size=500)
    return len(rows)


# Budget and metering


def budget_cents(organization: Organization) -> int:
    ai_settings = settings_for(organization)
    if ai_settings.monthly_budget_cents is not None:
        return ai_settings.monthly_budget_cents
    return settings.AI_MONTHLY_BUDGET_CENTS


def spent_cents(organization: Organization) -> Decimal:
    microdollars = usage.used_this_month(organization, SPEND_ACTION)
    return Decimal(microdollars) / 10_000


def check_budget(organization: Organization) -> None:
    """Raise BudgetExceeded when this month's spend has reached the budget. Only network
    AI costs anything: an organization on offline rules alone is never stopped."""
    budget = budget_cents(organization)
    spent = spent_cents(organization)
    if spent >= budget and uses_network_ai(organization):
        raise BudgetExceeded(budget, spent)


def cost_cents(provider: str, model: str, tokens: Usage) -> Decimal:
    return prices().cost_cents(provider, model, tokens)


def to_microdollars(cents: Decimal) -> int:
    return int((cents * 10_000).to_integral_value(rounding=ROUND_HALF_UP))


def meter(organization: Organization, user: User | None, cents: Decimal, *, metadata: dict) -> None:
    """Record AI spend in the usage layer (nothing for a free call)."""
    amount = to_microdollars(cents)
    if amount > 0:
        with transaction.atomic():
            usage.record(organization, SPEND_ACTION, amount, user=user, metadata=metadata)
