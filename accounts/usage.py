"""Usage metering and monthly quotas per plan.

Capabilities that spend credits call `check()` before the work and `record()` after it
(or `spend()` for both at once). Quotas are per calendar month (UTC).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from accounts.models import Plan, UsageEvent

if TYPE_CHECKING:
    from accounts.models import Organization, User

# Actions that plans may limit; later apps register theirs.
ACTIONS: dict[str, str] = {
    "api.request": "API requests",
    "enrichment.company": "Companies enriched",
    "agents.run": "AI agent runs",
    "ai.spend_microdollars": "AI spend",
    "campaigns.email": "Campaign emails sent",
    "leads.import_row": "Imported lead rows",
}


# Actions metered in millionths of a US dollar (AI spend: exact to well under a cent per
# call), shown as dollars.
MICRODOLLAR_ACTIONS = frozenset({"ai.spend_microdollars"})


def display(action: str, quantity: int | None) -> str:
    """A metered quantity as a person reads it."""
    if quantity is None:
        return ""
    if action in MICRODOLLAR_ACTIONS:
        return (
            f"${quantity / 1_000_000:,.2f}"
            if quantity >= 10_000
            else f"${quantity / 1_000_000:,.4f}"
        )
    return f"{quantity:,}"


class QuotaExceeded(Exception):
    """The organization's plan does not allow this much of `action` this month."""

    def __init__(self, action: str, limit: int, used: int, requested: int):
        self.action, self.limit, self.used, self.requested = action, limit, used, requested
        label = ACTIONS.get(action, action)
        super().__init__(
            f"Monthly limit reached for {label.lower()}: {used:,} of {limit:,} used, "
            f"{requested:,} more requested. Upgrade the plan or wait for next month."
        )

    @property
    def details(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "limit": self.limit,
            "used": self.used,
            "requested": self.requested,
        }


def month_start(now: datetime | None = None) -> datetime:
    now = now or timezone.now()
    return now.astimezone(timezone.UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def plan_for(org: Organization) -> Plan | None:
    if org.plan_id is None:
        return Plan.objects.filter(is_default=True).first()
    return org.plan


def used_this_month(org: Organization, action: str) -> int:
    total = (
        UsageEvent.objects.for_org(org)
        .filter(action=action, created_at__gte=month_start())
        .aggregate(total=Sum("quantity"))["total"]
    )
    return total or 0


def remaining(org: Organization, action: str) -> int | None:
    """What is left this month, or None when the plan sets no limit for `action`."""
    plan = plan_for(org)
    limit = plan.limit_for(action) if plan else None
    if limit is None:
        return None
    return max(limit - used_this_month(org, action), 0)


def check(org: Organization, action: str, quantity: int = 1) -> None:
    """Raise QuotaExceeded when `quantity` more of `action` would pass the plan's limit."""
    plan = plan_for(org)
    limit = plan.limit_for(action) if plan else None
    if limit is None:
        return
    used = used_this_month(org, action)
    if used + quantity > limit:
        raise QuotaExceeded(action, limit, used, quantity)


def record(
    org: Organization,
    action: str,
    quantity: int = 1,
    *,
    user: User | None = None,
    metadata: dict[str, Any] | None = None,
) -> UsageEvent:
    """Meter `quantity` of `action` for the organization."""
    return UsageEvent.objects.create(
        organization=org, user=user, action=action, quantity=quantity, metadata=metadata or {}
    )


def spend(
    org: Organization,
    action: str,
    quantity: int = 1,
    *,
    user: User | None = None,
    metadata: dict[str, Any] | None = None,
) -> UsageEvent:
    """Check and record in one step, serialized per organization so two processes cannot
    both take the last unit of a quota."""
    from accounts.models import Organization

    with transaction.atomic():
        Organization.objects.select_for_update().filter(pk=org.pk).first()
        check(org, action, quantity)
        return record(org, action, quantity, user=user, metadata=metadata)


def summary(org: Organization) -> list[dict[str, Any]]:
    """This month's usage per action with the plan's limit, for settings and the API."""
    plan = plan_for(org)
    totals = dict(
        UsageEvent.objects.for_org(org)
        .filter(created_at__gte=month_start())
        .values_list("action")
        .annotate(total=Sum("quantity"))
        .values_list("action", "total")
    )
    actions = (
        dict.fromkeys(ACTIONS) | dict.fromkeys(totals) | dict.fromkeys(plan.limits if plan else {})
    )
    return [
        {
            "action": action,
            "label": ACTIONS.get(action, action),
            "used": totals.get(action, 0),
            "limit": plan.limit_for(action) if plan else None,
            "used_display": display(action, totals.get(action, 0)),
            "limit_display": display(action, plan.limit_for(action) if plan else None),
        }
        for action in actions
    ]
