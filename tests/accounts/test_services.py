import pytest
from django.core import mail

from accounts import services
from accounts.models import AccessToken, ApiKey, Event, Invitation, Membership, Role
from tests import factories


def test_create_organization_makes_the_user_owner_and_logs_it(db):
    user = factories.make_user()
    org = services.create_organization(name="Initech", owner=user)
    assert org.slug == "initech"
    assert Membership.objects.get(organization=org, user=user).role == Role.OWNER
    assert Event.objects.for_org(org).filter(type="organization.created").exists()
    user.refresh_from_db()
    assert user.last_organization == org


def test_a_taken_slug_gets_a_short_suffix(db):
    first = factories.make_org("Initech")
    second = factories.make_org("Initech")
    assert first.slug == "initech"
    assert second.slug.startswith("initech-") and len(second.slug) == len("initech-") + 4


def test_reserved_and_unsluggable_names_still_get_a_slug(db):
    assert factories.make_org("Admin").slug == "admin-org"
    assert factories.make_org("日本").slug == "org"


def test_the_last_owner_cannot_be_demoted(org, owner):
    membership = Membership.objects.get(organization=org, user=owner)
    with pytest.raises(services.LastOwnerError):
        services.change_role(membership=membership, role=Role.ADMIN, actor=owner)
    membership.refresh_from_db()
    assert membership.role == Role.OWNER


def test_an_owner_can_step_down_once_there_is_another(org, owner, admin_user):
    services.change_role(
        membership=Membership.objects.get(organization=org, user=admin_user),
        role=Role.OWNER,
        actor=owner,
    )
    services.change_role(
        membership=Membership.objects.get(organization=org, user=owner),
        role=Role.MEMBER,
        actor=owner,
    )
    assert Membership.objects.get(organization=org, user=owner).role == Role.MEMBER
    event = Event.objects.for_org(org).filter(type="member.role_changed").first()
    assert event.payload == {"user": owner.email, "from": "owner", "to": "member"}


def test_the_last_owner_cannot_leave(org, owner):
    with pytest.raises(services.LastOwnerError):
        services.remove_member(
            membership=Membership.objects.get(organization=org, user=owner), actor=owner
        )
    assert Membership.objects.filter(organization=org, user=owner).exists()


def test_removing_a_member_revokes_their_keys_in_that_organization(org, owner, member, other_org):
    key, _raw = factories.make_api_key(org, member)
    factories.add_member(other_org, member)
    elsewhere, _raw = factories.make_api_key(other_org, member)
    services.remove_member(
        membership=Membership.objects.get(organization=org, user=member), actor=owner
    )
    key.refresh_from_db()
    elsewhere.refresh_from_db()
    assert key.revoked_at is not None
    assert elsewhere.revoked_at is None
    assert Event.objects.for_org(org).filter(type="member.removed").exists()


def test_invitation_is_mailed_and_accepted(org, owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invitation = services.invite_member(
            organization=org,
            email="New@Example.com",
            role=Role.VIEWER,
            actor=owner,
            accept_url_base="http://testserver",
        )
    assert invitation.email == "new@example.com"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new@example.com"]
    token = invitation.accept_url.rstrip("/").rsplit("/", 1)[-1]
    assert invitation.accept_url in mail.outbox[0].body
    found = services.find_invitation(token)
    assert found == invitation
    newcomer = factories.make_user("new@example.com")
    membership = services.accept_invitation(invitation=found, user=newcomer)
    assert membership.role == Role.VIEWER
    with pytest.raises(ValueError, match="accepted"):
        services.accept_invitation(invitation=found, user=newcomer)


def test_a_new_invitation_replaces_the_open_one(org, owner):
    first = services.invite_member(
        organization=org,
        email="a@example.com",
        role=Role.MEMBER,
        actor=owner,
        accept_url_base="http://x",
    )
    services.invite_member(
        organization=org,
        email="a@example.com",
        role=Role.ADMIN,
        actor=owner,
        accept_url_base="http://x",
    )
    first.refresh_from_db()
    assert first.revoked_at is not None
    assert Invitation.objects.for_org(org).pending().get().role == Role.ADMIN


def test_api_keys_are_stored_only_as_hashes(org, owner):
    key, raw = services.create_api_key(
        organization=org, user=owner, name="CI", scopes={"leads": "read"}
    )
    assert raw.startswith("pk_live_") and len(raw) > 40
    assert raw not in key.key_hash and key.key_hash != raw
    assert key.prefix == raw[:14]
    stored = ApiKey.objects.get(pk=key.pk)
    assert raw not in str(stored.__dict__.values())
    assert stored.allows("leads", write=False)
    assert not stored.allows("leads", write=True)
    assert not stored.allows("campaigns", write=False)


def test_access_tokens_expire(org, owner, settings):
    token, raw = services.issue_access_token(organization=org, user=owner)
    assert raw.startswith("pt_")
    assert token.expires_at is not None and token.is_usable
    assert AccessToken.objects.usable().filter(pk=token.pk).exists()
