from leads.filters import LeadFilter
from leads.models import Lead
from tests import factories


def test_lead_filter_by_tag_status_source_and_owner(org, owner, other_org):
    a = factories.make_lead(org, tags=["VIP"], source="web")
    b = factories.make_lead(org, source="event")
    f = LeadFilter({"tag": "vip"}, queryset=Lead.objects.for_org(org), organization=org)
    assert list(f.qs) == [a]
    f = LeadFilter(
        {"status": ["new"], "source": "EVENT"}, queryset=Lead.objects.for_org(org), organization=org
    )
    assert list(f.qs) == [b]
    f = LeadFilter({"owner": str(owner.pk)}, queryset=Lead.objects.for_org(org), organization=org)
    assert f.is_valid(), f.errors
    assert list(f.qs) == []
    f = LeadFilter({"owner": "999"}, queryset=Lead.objects.for_org(org), organization=org)
    assert not f.is_valid()


def test_archived_leads_are_left_out_unless_asked(org, owner):
    from leads import services

    kept = factories.make_lead(org)
    gone = factories.make_lead(org)
    services.archive_lead(lead=gone, actor=owner)
    qs = Lead.objects.for_org(org)
    assert list(LeadFilter({}, queryset=qs, organization=org).qs) == [kept]
    both = LeadFilter({"include_archived": "true"}, queryset=qs, organization=org).qs
    assert set(both) == {kept, gone}


def test_another_organizations_member_is_not_a_valid_owner(org, other_org, outsider):
    f = LeadFilter(
        {"owner": str(outsider.pk)}, queryset=Lead.objects.for_org(org), organization=org
    )
    assert not f.is_valid()


def test_score_range_and_search(org):
    low = factories.make_lead(org, first_name="Ada", score=10)
    high = factories.make_lead(org, first_name="Grace", score=90)
    qs = Lead.objects.for_org(org)
    assert list(LeadFilter({"score_min": "50"}, queryset=qs, organization=org).qs) == [high]
    assert list(LeadFilter({"score_max": "50"}, queryset=qs, organization=org).qs) == [low]
    assert list(LeadFilter({"q": "grace"}, queryset=qs, organization=org).qs) == [high]
    assert not LeadFilter({"score_min": "-5"}, queryset=qs, organization=org).is_valid()


def test_owner_null_selects_unassigned_leads(org, owner):
    mine = factories.make_lead(org, owner=owner)
    nobodys = factories.make_lead(org)
    qs = Lead.objects.for_org(org)
    unassigned = LeadFilter({"owner": "null"}, queryset=qs, organization=org)
    assert unassigned.is_valid(), unassigned.errors
    assert list(unassigned.qs) == [nobodys]
    assert list(LeadFilter({"owner": str(owner.pk)}, queryset=qs, organization=org).qs) == [mine]


def test_the_status_filter_adds_no_distinct(org):
    qs = Lead.objects.for_org(org)
    filtered = LeadFilter({"status": ["new", "lost"]}, queryset=qs, organization=org).qs
    assert not filtered.query.distinct
