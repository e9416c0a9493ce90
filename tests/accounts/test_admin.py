"""Staff admin: two-factor gate, allauth login, django-q2's views, and no N+1 on changelists."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib import admin
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import events, usage
from accounts.models import (
    AccessToken,
    ApiKey,
    Invitation,
    Membership,
    Organization,
    Plan,
    Role,
    WebhookDelivery,
    WebhookEndpoint,
    hash_secret,
)
from accounts.services import issue_access_token
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db):
    """A superuser with an activated TOTP authenticator, stored as allauth stores it."""
    user = factories.make_user(
        "staff@example.com", name="Sam Staff", is_staff=True, is_superuser=True
    )
    TOTP.activate(user, generate_totp_secret())
    return user


@pytest.fixture
def staff_client(staff):
    client = Client()
    client.force_login(staff)
    return client


def make_tenant(n: int) -> Organization:
    """One organization with a row of every accounts model, so each changelist has data."""
    owner = factories.make_user(f"owner{n}@example.com")
    org = factories.make_org(f"Tenant {n}", owner=owner)
    factories.add_member(org, factories.make_user(f"member{n}@example.com"), Role.MEMBER)
    Invitation.objects.create(
        organization=org,
        email=f"invitee{n}@example.com",
        token_hash=hash_secret(f"token-{n}"),
        invited_by=owner,
        expires_at=Invitation.default_expiry(),
    )
    factories.make_api_key(org, owner)
    issue_access_token(organization=org, user=owner)
    usage.record(org, "enrichment.company", 3, user=owner)
    event = events.emit(org, "lead.created", {"n": n}, actor=owner)
    endpoint = WebhookEndpoint.objects.create(
        organization=org,
        url=f"https://hooks{n}.example.com/in",
        event_types=["*"],
        secret="whsec_" + "A" * 32,
        created_by=owner,
    )
    WebhookDelivery.objects.create(
        organization=org, endpoint=endpoint, event=event, next_attempt_at=timezone.now()
    )
    return org


CHANGELISTS = [
    "accounts_user",
    "accounts_organization",
    "accounts_membership",
    "accounts_invitation",
    "accounts_apikey",
    "accounts_accesstoken",
    "accounts_plan",
    "accounts_usageevent",
    "accounts_event",
    "accounts_webhookendpoint",
    "accounts_webhookdelivery",
]


def changelist_queries(client, name: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse(f"admin:{name}_changelist"))
    assert response.status_code == 200, (name, response.status_code)
    return len(captured)


def test_every_accounts_model_has_an_admin():
    registered = {model._meta.label_lower.replace(".", "_") for model in admin.site._registry}
    assert set(CHANGELISTS) <= registered


@pytest.mark.parametrize("name", CHANGELISTS)
def test_changelist_query_count_does_not_grow_with_rows(staff_client, name):
    make_tenant(1)
    few = changelist_queries(staff_client, name)
    for n in range(2, 6):
        make_tenant(n)
    many = changelist_queries(staff_client, name)
    assert many == few, f"{name}: {few} queries with one tenant, {many} with five (N+1)"


# Every changelist starts with the same three queries: the session, the user and the staff
# two-factor check (does an Authenticator exist). The counts below add the changelist's own;
# "2 counts" is the admin's total and filtered COUNT(*), which big tables skip
# (show_full_result_count = False).
PINNED = {
    # 2 counts, the page (org count, 2FA flag and last organization in one query),
    # date_hierarchy min/max and days
    "accounts_user": 8,
    # the plans for the filter, 2 counts, the page (plan joined, member count), hierarchy x2
    "accounts_organization": 9,
    # 2 counts, the page with user and organization joined
    "accounts_membership": 6,
    # 2 counts, the page with organization and inviter joined
    "accounts_invitation": 6,
    # 2 counts, the page with organization and user joined
    "accounts_apikey": 6,
    "accounts_accesstoken": 6,
    # 2 counts, the page with the organization count
    "accounts_plan": 6,
    # 1 count, the page (organization, user), distinct actions for the filter, hierarchy x2
    "accounts_usageevent": 8,
    # 1 count, the page (organization), distinct types for the filter, hierarchy x2
    "accounts_event": 8,
    # 2 counts, the page with the organization joined
    "accounts_webhookendpoint": 6,
    # 1 count, the page (event, endpoint, organization), hierarchy x2
    "accounts_webhookdelivery": 7,
}


@pytest.mark.parametrize("name", CHANGELISTS)
def test_changelist_query_count_is_pinned(staff_client, name, django_assert_num_queries):
    for n in range(1, 4):
        make_tenant(n)
    with django_assert_num_queries(PINNED[name]):
        response = staff_client.get(reverse(f"admin:{name}_changelist"))
    assert response.status_code == 200


def test_organization_changelist_shows_member_counts(staff_client):
    org = make_tenant(1)
    response = staff_client.get(reverse("admin:accounts_organization_changelist"))
    assert org.name in response.text
    assert '<td class="field-member_count">2</td>' in response.text


def test_user_search_finds_by_name_and_email(staff_client):
    make_tenant(1)
    factories.make_user("zelda@example.com", name="Zelda Zephyr")
    url = reverse("admin:accounts_user_changelist")
    assert "zelda@example.com" in staff_client.get(url, {"q": "Zephyr"}).text
    assert "owner1@example.com" not in staff_client.get(url, {"q": "Zephyr"}).text
    assert "zelda@example.com" in staff_client.get(url, {"q": "zelda@"}).text


def test_change_pages_open_for_every_model(staff_client):
    org = make_tenant(1)
    objects = {
        "accounts_user": org.memberships.first().user,
        "accounts_organization": org,
        "accounts_membership": Membership.objects.for_org(org).first(),
        "accounts_invitation": Invitation.objects.for_org(org).first(),
        "accounts_apikey": ApiKey.objects.for_org(org).first(),
        "accounts_accesstoken": AccessToken.objects.for_org(org).first(),
        "accounts_plan": Plan.objects.get(is_default=True),
        "accounts_usageevent": org.usage_events.first(),
        "accounts_event": org.events.first(),
        "accounts_webhookendpoint": WebhookEndpoint.objects.for_org(org).first(),
        "accounts_webhookdelivery": WebhookDelivery.objects.for_org(org).first(),
    }
    for name, obj in objects.items():
        response = staff_client.get(reverse(f"admin:{name}_change", args=[obj.pk]))
        assert response.status_code == 200, name


def test_api_key_page_never_shows_the_hash(staff_client):
    org = make_tenant(1)
    key = ApiKey.objects.for_org(org).get()
    for url in (
        reverse("admin:accounts_apikey_changelist"),
        reverse("admin:accounts_apikey_change", args=[key.pk]),
    ):
        text = staff_client.get(url).text
        assert key.prefix in text
        assert key.key_hash not in text
        assert 'name="key_hash"' not in text
        assert 'name="scopes"' not in text


def test_webhook_secret_is_not_shown(staff_client):
    org = make_tenant(1)
    endpoint = WebhookEndpoint.objects.for_org(org).get()
    text = staff_client.get(
        reverse("admin:accounts_webhookendpoint_change", args=[endpoint.pk])
    ).text
    assert endpoint.secret not in text


def test_revoke_action_revokes_keys_and_records_the_event(staff_client, staff):
    org = make_tenant(1)
    key = ApiKey.objects.for_org(org).get()
    response = staff_client.post(
        reverse("admin:accounts_apikey_changelist"),
        {"action": "revoke", "_selected_action": [key.pk]},
    )
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None
    event = org.events.filter(type="api_key.revoked").get()
    assert event.actor == staff


def test_revoke_action_revokes_tokens(staff_client):
    org = make_tenant(1)
    token = AccessToken.objects.for_org(org).get()
    staff_client.post(
        reverse("admin:accounts_accesstoken_changelist"),
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    token.refresh_from_db()
    assert token.status == "revoked"


def test_records_of_what_happened_are_read_only(staff_client):
    org = make_tenant(1)
    event = org.events.first()
    response = staff_client.post(
        reverse("admin:accounts_event_change", args=[event.pk]), {"type": "forged"}
    )
    assert response.status_code == 403
    event.refresh_from_db()
    assert event.type != "forged"
    assert staff_client.get(reverse("admin:accounts_usageevent_add")).status_code == 403


def test_staff_can_add_a_user_with_an_email_address(staff_client):
    from accounts.models import User

    response = staff_client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "New.Person@Example.com",
            "name": "New Person",
            "usable_password": "true",
            "password1": "a-long-enough-passphrase-42",
            "password2": "a-long-enough-passphrase-42",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    user = User.objects.get(email="new.person@example.com")
    assert user.check_password("a-long-enough-passphrase-42")


@pytest.mark.parametrize("model", ["success", "failure", "schedule", "ormq"])
def test_django_q_task_views_are_reachable(staff_client, model):
    assert staff_client.get(reverse(f"admin:django_q_{model}_changelist")).status_code == 200


def test_admin_index_lists_the_task_queue(staff_client):
    response = staff_client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert reverse("admin:django_q_schedule_changelist") in response.text


# ---------------------------------------------------------------- who gets in


def test_staff_without_two_factor_is_sent_to_totp_setup(client):
    user = factories.make_user("nomfa@example.com", is_staff=True, is_superuser=True)
    client.force_login(user)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/2fa/totp/activate/")
    # Deeper admin pages too, not only the index.
    response = client.get(reverse("admin:accounts_user_changelist"))
    assert response["Location"].startswith("/accounts/2fa/totp/activate/")


def test_staff_with_two_factor_reaches_the_admin(staff_client):
    assert staff_client.get("/admin/").status_code == 200


def test_non_staff_member_is_refused(client):
    user = factories.make_user("plain@example.com")
    Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={"secret": "x"})
    client.force_login(user)
    assert client.get("/admin/").status_code in (302, 403)
    assert client.get(reverse("admin:accounts_user_changelist")).status_code in (302, 403)
    assert client.get("/admin/login/").status_code == 403


def test_admin_login_goes_through_allauth(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    login = client.get(response["Location"], follow=True)
    # The admin's own password form is never served: it redirects to allauth's login.
    final = urlsplit(login.redirect_chain[-1][0])
    assert final.path == reverse("account_login")
    assert parse_qs(final.query)["next"] == ["/admin/"]
    assert login.status_code == 200


def test_admin_login_is_rate_limited(client, settings):
    settings.LOGIN_RATE_LIMIT = "3/m"
    start = client.get("/admin/login/")
    login_url = start["Location"]
    assert login_url.startswith(reverse("account_login"))
    statuses = [
        client.post(login_url, {"login": "staff@example.com", "password": "wrong"}).status_code
        for _ in range(4)
    ]
    assert statuses[:3] == [200, 200, 200]
    assert statuses[3] == 429


def test_expired_invitation_shows_its_status(staff_client):
    org = make_tenant(1)
    Invitation.objects.for_org(org).update(expires_at=timezone.now() - timedelta(days=1))
    response = staff_client.get(reverse("admin:accounts_invitation_changelist"))
    assert '<td class="field-status">expired</td>' in response.text
