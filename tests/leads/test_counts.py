"""The per-status lead counts kept by database triggers (leads.counts), on SQLite and
PostgreSQL: every way a lead changes must move the counts exactly as a GROUP BY would."""

from __future__ import annotations

import random

import pytest
from django.db.models import Count
from django.utils import timezone

from leads import counts, services
from leads.merging import merge_leads
from leads.models import Lead, LeadCount, Status
from leads.privacy import erase_lead
from tests.factories import make_lead, make_org

pytestmark = pytest.mark.django_db


def exact(org) -> dict[str, int]:
    rows = (
        Lead.objects.filter(organization=org, archived_at__isnull=True)
        .order_by()
        .values_list("status")
        .annotate(n=Count("id"))
    )
    return dict(rows)


def test_service_changes_move_the_counts(org, owner):
    assert counts.status_counts(org.pk) == {}
    first = make_lead(org, actor=owner)
    second = make_lead(org, actor=owner)
    assert counts.status_counts(org.pk) == {"new": 2}

    services.set_status(lead=first, status=Status.CONTACTED, actor=owner)
    assert counts.status_counts(org.pk) == {"new": 1, "contacted": 1}

    services.archive_lead(lead=second, actor=owner)
    assert counts.status_counts(org.pk) == {"contacted": 1}
    second.refresh_from_db()
    services.restore_lead(lead=second, actor=owner)
    assert counts.status_counts(org.pk) == {"new": 1, "contacted": 1}

    erase_lead(lead=first, actor=owner)
    assert counts.status_counts(org.pk) == {"new": 1}


def test_bulk_writes_are_counted(org, owner):
    Lead.objects.bulk_create(
        [Lead(organization=org, email=f"b{n}@x.example", status=Status.QUALIFIED) for n in range(7)]
        + [Lead(organization=org, email="gone@x.example", archived_at=timezone.now())]
    )
    assert counts.status_counts(org.pk) == {"qualified": 7}
    Lead.objects.filter(organization=org, email__in=["b0@x.example", "b1@x.example"]).update(
        status=Status.LOST
    )
    # An update that moves nothing (score only) writes nothing.
    before = LeadCount.objects.count()
    Lead.objects.filter(organization=org).update(score=5)
    assert LeadCount.objects.count() == before
    Lead.objects.filter(organization=org, email="gone@x.example").update(archived_at=None)
    Lead.objects.filter(organization=org, email="b2@x.example").delete()
    assert counts.status_counts(org.pk) == exact(org) == {"qualified": 4, "lost": 2, "new": 1}


def test_merge_counts_the_archived_other(org, owner):
    keep = make_lead(org, actor=owner, email="keep@x.example")
    other = make_lead(org, actor=owner, email="other@x.example")
    merge_leads(keep=keep, other=other, fields={}, actor=owner)
    assert counts.status_counts(org.pk) == exact(org) == {"new": 1}


def test_organizations_are_counted_apart(org, other_org, owner):
    make_lead(org, actor=owner)
    other_lead = make_lead(other_org)
    services.set_status(lead=other_lead, status=Status.CONVERTED, actor=None)
    assert counts.status_counts(org.pk) == {"new": 1}
    assert counts.status_counts(other_org.pk) == {"converted": 1}


def test_compaction_keeps_the_totals_and_folds_the_rows(org, owner):
    rng = random.Random(3)
    leads = [make_lead(org, actor=owner) for _ in range(12)]
    for _ in range(40):
        lead = rng.choice(leads)
        lead.refresh_from_db()
        services.set_status(lead=lead, status=rng.choice(Status.values), actor=owner)
    assert LeadCount.objects.filter(organization=org).count() > 6
    expected = exact(org)
    assert counts.status_counts(org.pk) == expected

    counts.compact(org.pk)
    assert counts.status_counts(org.pk) == expected
    rows = LeadCount.objects.filter(organization=org)
    assert rows.count() == len(expected)
    assert sorted(rows.values_list("status", flat=True)) == sorted(expected)


def test_reading_many_rows_compacts_them(org, owner, monkeypatch):
    monkeypatch.setattr(counts, "COMPACT_FROM", 5)
    lead = make_lead(org, actor=owner)
    for status in [Status.CONTACTED, Status.REPLIED, Status.QUALIFIED, Status.LOST] * 2:
        lead.refresh_from_db()
        services.set_status(lead=lead, status=status, actor=owner)
    assert LeadCount.objects.filter(organization=org).count() > 5
    assert counts.status_counts(org.pk) == {"lost": 1}
    assert list(LeadCount.objects.filter(organization=org).values_list("status", "n")) == [
        ("lost", 1)
    ]


def test_compact_all_folds_busy_organizations_and_drops_deleted_ones(owner):
    kept, gone = make_org(owner=owner), make_org(owner=owner)
    for org in (kept, gone):
        make_lead(org, actor=owner)
        make_lead(org, actor=owner)
    gone_id = gone.pk
    gone.delete()
    assert counts.compact_all() >= 1
    assert not LeadCount.objects.filter(organization_id=gone_id).exists()
    assert list(LeadCount.objects.filter(organization=kept).values_list("status", "n")) == [
        ("new", 2)
    ]


def test_recount_rebuilds_from_the_leads(org, owner):
    make_lead(org, actor=owner)
    make_lead(org, actor=owner, status=Status.REPLIED)
    LeadCount.objects.filter(organization=org).update(n=99)
    counts.recount(org.pk)
    assert counts.status_counts(org.pk) == {"new": 1, "replied": 1}
    counts.recount()
    assert counts.status_counts(org.pk) == {"new": 1, "replied": 1}


def test_triggers_survive_a_reinstall(org, owner):
    """install_triggers runs after every migrate: installing twice must not count twice."""
    from django.db import connection

    counts.install_triggers(connection)
    counts.install_triggers(connection)
    make_lead(org, actor=owner)
    assert counts.status_counts(org.pk) == {"new": 1}
