import pytest

from accounts.models import Event
from leads import services
from leads.models import Activity, ActivityKind, Company, Lead, Status
from tests import factories


def test_create_lead_matches_the_company_from_the_email_domain(org, owner):
    first = services.create_lead(
        organization=org, actor=owner, data={"email": "Ada@Acme.io", "first_name": "Ada"}
    )
    second = services.create_lead(
        organization=org, actor=owner, data={"email": "bob@sales.acme.io"}, company_name="ACME"
    )
    assert first.email == "ada@acme.io"
    assert first.company == second.company
    assert first.company.domain == "acme.io"
    assert Company.objects.for_org(org).count() == 1
    assert Activity.objects.for_lead(first).get().kind == ActivityKind.CREATED
    event = Event.objects.for_org(org).filter(type="lead.created").first()
    assert event.payload["company"]["domain"] == "acme.io"


def test_a_free_mail_address_makes_no_company_but_a_name_does(org, owner):
    lead = services.create_lead(organization=org, actor=owner, data={"email": "x@gmail.com"})
    assert lead.company is None
    named = services.create_lead(
        organization=org, actor=owner, data={"email": "y@gmail.com"}, company_name="Initech"
    )
    again = services.create_lead(
        organization=org, actor=owner, data={"email": "z@hotmail.com"}, company_name="initech"
    )
    assert named.company == again.company and named.company.domain == ""


def test_a_company_known_by_name_learns_its_domain(org, owner):
    company = factories.make_company(org, name="Globex", domain="")
    lead = services.create_lead(
        organization=org, actor=owner, data={"email": "h@globex.com"}, company_name="Globex"
    )
    company.refresh_from_db()
    assert lead.company == company and company.domain == "globex.com"


def test_an_active_email_is_unique_case_insensitively(org, owner):
    lead = factories.make_lead(org, email="dup@example.com")
    with pytest.raises(services.DuplicateLead) as caught:
        services.create_lead(organization=org, actor=owner, data={"email": "DUP@example.com"})
    assert caught.value.existing_id == lead.pk


def test_archiving_frees_the_email_and_restore_checks_it(org, owner):
    lead = factories.make_lead(org, email="dup@example.com")
    services.archive_lead(lead=lead, actor=owner)
    newer = factories.make_lead(org, email="dup@example.com")
    with pytest.raises(services.DuplicateLead) as caught:
        services.restore_lead(lead=lead, actor=owner)
    assert caught.value.existing_id == newer.pk
    services.archive_lead(lead=newer, actor=owner)
    services.restore_lead(lead=lead, actor=owner)
    lead.refresh_from_db()
    assert lead.archived_at is None
    kinds = list(Activity.objects.for_lead(lead).values_list("kind", flat=True))
    assert kinds[:2] == [ActivityKind.RESTORED, ActivityKind.ARCHIVED]


def test_the_same_email_may_exist_in_two_organizations(org, other_org):
    factories.make_lead(org, email="same@example.com")
    factories.make_lead(other_org, email="same@example.com")
    assert Lead.objects.filter(email="same@example.com").count() == 2


def test_set_status_records_who_from_to_and_emits(org, owner):
    lead = factories.make_lead(org)
    services.set_status(lead=lead, status=Status.CONTACTED, actor=owner)
    services.set_status(lead=lead, status=Status.CONVERTED, actor=owner, note="Signed")
    lead.refresh_from_db()
    assert lead.status == Status.CONVERTED and lead.converted_at is not None
    change = Activity.objects.for_lead(lead).filter(kind=ActivityKind.STATUS_CHANGE).first()
    assert change.data == {"from": "contacted", "to": "converted"}
    assert change.actor == owner and change.body == "Signed"
    events = Event.objects.for_org(org).filter(type="lead.status_changed")
    assert [e.payload["to"] for e in events] == ["converted", "contacted"]


def test_moving_to_the_same_status_changes_nothing(org, owner):
    lead = factories.make_lead(org)
    services.set_status(lead=lead, status=Status.NEW, actor=owner)
    assert not Activity.objects.for_lead(lead).filter(kind=ActivityKind.STATUS_CHANGE).exists()
    assert not Event.objects.for_org(org).filter(type="lead.status_changed").exists()


def test_update_lead_records_what_changed(org, owner, member):
    lead = factories.make_lead(org, title="CTO", phone="")
    services.update_lead(
        lead=lead,
        actor=owner,
        changes={
            "title": "CEO",
            "owner": member,
            "phone": "+1 415 555 0123",
            "location": lead.location,
        },
    )
    lead.refresh_from_db()
    assert (lead.title, lead.owner, lead.phone, lead.phone_raw) == (
        "CEO",
        member,
        "+14155550123",
        "+1 415 555 0123",
    )
    change = Activity.objects.for_lead(lead).get(kind=ActivityKind.FIELD_CHANGE)
    assert change.data["changes"]["title"] == ["CTO", "CEO"]
    assert change.data["changes"]["owner"] == [None, str(member)]
    assert "location" not in change.data["changes"]


def test_update_without_changes_records_nothing(org, owner):
    lead = factories.make_lead(org, title="CTO")
    services.update_lead(lead=lead, actor=owner, changes={"title": "CTO"})
    assert not Activity.objects.for_lead(lead).filter(kind=ActivityKind.FIELD_CHANGE).exists()


def test_tags_are_created_once_per_name_case_insensitively(org):
    first = factories.make_lead(org, tags=["VIP", "q4"])
    second = factories.make_lead(org, tags=["vip"])
    assert {t.name for t in first.tags.all()} == {"VIP", "q4"}
    assert [t.name for t in second.tags.all()] == ["VIP"]
    services.add_tags(leads=[first, second], names=["Q4", "new"], organization=org)
    assert {t.name for t in second.tags.all()} == {"VIP", "q4", "new"}
    services.remove_tags(leads=[first, second], names=["vip"], organization=org)
    assert {t.name for t in first.tags.all()} == {"q4", "new"}


def test_activities_follow_their_organization_and_actor_without_database_constraints(owner):
    """Activity's organization and actor are not database constraints (import speed);
    Django still deletes an organization's activities and anonymizes a deleted user's."""
    from leads.models import Activity

    org = factories.make_org("Going away", owner=owner)
    rep = factories.add_member(org)
    lead = factories.make_lead(org, actor=rep)
    assert Activity.objects.filter(lead=lead, actor=rep).exists()
    rep.delete()
    assert Activity.objects.filter(lead=lead).exists()
    assert not Activity.objects.filter(lead=lead, actor__isnull=False).exclude(actor=owner).exists()
    org_id = org.pk
    org.delete()
    assert not Activity.objects.filter(organization_id=org_id).exists()
