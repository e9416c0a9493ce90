from datetime import UTC, datetime

import pytest
import time_machine

from accounts import usage
from accounts.models import Plan, UsageEvent


def test_a_new_organization_is_on_the_default_free_plan(org):
    assert org.plan.code == "free"
    assert org.plan.is_default


def test_record_writes_a_usage_event(org, owner):
    usage.record(org, "enrichment.company", 3, user=owner, metadata={"job": 7})
    event = UsageEvent.objects.for_org(org).get()
    assert (event.action, event.quantity, event.user, event.metadata) == (
        "enrichment.company",
        3,
        owner,
        {"job": 7},
    )


def test_check_refuses_past_the_monthly_limit(org):
    limit = org.plan.limit_for("enrichment.company")
    usage.record(org, "enrichment.company", limit - 1)
    usage.check(org, "enrichment.company", 1)  # exactly at the limit is allowed
    with pytest.raises(usage.QuotaExceeded) as caught:
        usage.check(org, "enrichment.company", 2)
    assert caught.value.details == {
        "action": "enrichment.company",
        "limit": limit,
        "used": limit - 1,
        "requested": 2,
    }
    assert "Monthly limit reached" in str(caught.value)


def test_an_action_without_a_limit_is_never_refused(org):
    usage.record(org, "api.request", 10_000_000)
    usage.check(org, "api.request", 1)
    assert usage.remaining(org, "api.request") is None


def test_last_months_usage_does_not_count(org):
    limit = org.plan.limit_for("agents.run")
    with time_machine.travel(datetime(2026, 10, 31, 23, 0, tzinfo=UTC)):
        usage.record(org, "agents.run", limit)
    with time_machine.travel(datetime(2026, 11, 1, 0, 30, tzinfo=UTC)):
        assert usage.remaining(org, "agents.run") == limit
        usage.check(org, "agents.run", limit)


def test_usage_is_counted_per_organization(org, other_org):
    limit = other_org.plan.limit_for("agents.run")
    usage.record(other_org, "agents.run", limit)
    assert usage.remaining(org, "agents.run") == limit


def test_spend_records_and_then_refuses(org):
    team = Plan.objects.get(code="team")
    team.limits = {"agents.run": 2}
    team.save()
    org.plan = team
    org.save()
    usage.spend(org, "agents.run")
    usage.spend(org, "agents.run")
    with pytest.raises(usage.QuotaExceeded):
        usage.spend(org, "agents.run")
    assert usage.used_this_month(org, "agents.run") == 2


def test_summary_lists_usage_against_limits(org):
    usage.record(org, "campaigns.email", 12)
    rows = {row["action"]: row for row in usage.summary(org)}
    assert rows["campaigns.email"]["used"] == 12
    assert rows["campaigns.email"]["limit"] == org.plan.limit_for("campaigns.email")
    assert rows["agents.run"]["used"] == 0
