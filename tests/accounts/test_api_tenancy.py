"""Every organization-scoped API route answers 404 to another organization, for every method.

The routes are read from the router, so a resource registered later is walked too; it only
needs a way to make one of its rows in ROW_MAKERS (the test fails and says so otherwise).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.urls import reverse

from accounts import events, services
from accounts.models import ApiKey, Event, Invitation, Membership, Role, WebhookEndpoint
from agents.models import AgentRun, AgentType, Draft, Suggestion
from campaigns.models import Campaign, Sender, Step
from config.api import OrgScopedViewSet
from config.api_urls import router
from enrichment.models import EnrichmentJob
from leads.models import CaptureForm, Company, Lead, LeadTask, Suppression
from tests import factories
from tests.accounts.api_support import assert_error

ROW_MAKERS: dict[type, Callable] = {
    ApiKey: lambda org, owner: factories.make_api_key(org, owner, name="Victim key")[0],
    Membership: lambda org, owner: Membership.objects.get(
        organization=org, user=factories.add_member(org, role=Role.MEMBER)
    ),
    Invitation: lambda org, owner: services.invite_member(
        organization=org,
        email="invitee@example.com",
        role=Role.MEMBER,
        actor=owner,
        accept_url_base="http://x",
    ),
    WebhookEndpoint: lambda org, owner: WebhookEndpoint.objects.create(
        organization=org,
        url="https://93.184.216.34/hook",
        event_types=["*"],
        secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    ),
    Event: lambda org, owner: events.emit(org, "lead.created", {"name": "Ada"}, actor=owner),
    CaptureForm: lambda org, owner: CaptureForm.objects.create(organization=org, name="Victim"),
    Lead: lambda org, owner: factories.make_lead(org, email="victim@example.com"),
    Company: lambda org, owner: factories.make_company(org, name="Victim"),
    LeadTask: lambda org, owner: LeadTask.objects.create(
        organization=org, lead=factories.make_lead(org, email="task@example.com"), title="Victim"
    ),
    EnrichmentJob: lambda org, owner: EnrichmentJob.objects.create(organization=org, total=1),
    AgentRun: lambda org, owner: AgentRun.objects.create(
        organization=org, agent_type=AgentType.DAILY_FOCUS, user=owner
    ),
    Draft: lambda org, owner: Draft.objects.create(
        organization=org,
        lead=factories.make_lead(org, email="draft@example.com"),
        agent_type=AgentType.OUTREACH,
        subject="Victim",
        body="Victim",
    ),
    Suggestion: lambda org, owner: Suggestion.objects.create(
        organization=org,
        lead=factories.make_lead(org, email="suggestion@example.com"),
        status="qualified",
        score=70,
    ),
    Sender: lambda org, owner: Sender.objects.create(
        organization=org, name="Victim", email="victim@victim.example"
    ),
    Campaign: lambda org, owner: _campaign(org),
    Suppression: lambda org, owner: Suppression.objects.create(
        organization=org, email="victim@victim.example", reason="manual"
    ),
}


def _campaign(org) -> Campaign:
    """A draft with a step, so that launching it (or any other action) would change it."""
    sender = Sender.objects.create(organization=org, name="Victim", email="v@victim.example")
    campaign = Campaign.objects.create(organization=org, name="Victim", sender=sender)
    Step.objects.create(organization=org, campaign=campaign, order=1, subject="Hi", body="Hi")
    return campaign


_STANDARD = {
    "retrieve": "get",
    "update": "put",
    "partial_update": "patch",
    "destroy": "delete",
}


def _detail_routes():
    """(id, basename, url name, http method, viewset) for every detail route of a scoped
    viewset: the standard ones and every `@action(detail=True)`."""
    for _prefix, viewset, basename in router.registry:
        if not issubclass(viewset, OrgScopedViewSet):
            continue
        for action_name, method in _STANDARD.items():
            if hasattr(viewset, action_name) and method in viewset.http_method_names:
                yield (
                    f"{basename}-{method}",
                    basename,
                    f"{basename}-detail",
                    method,
                    viewset,
                )
        for extra in viewset.get_extra_actions():
            if extra.detail:
                for method in extra.mapping:
                    yield (
                        f"{basename}-{extra.url_name}-{method}",
                        basename,
                        f"{basename}-{extra.url_name}",
                        method,
                        viewset,
                    )


ROUTES = list(_detail_routes())


def test_the_walk_covers_the_accounts_resources():
    names = {route[0] for route in ROUTES}
    for expected in [
        "api-key-get",
        "api-key-delete",
        "member-patch",
        "member-delete",
        "invitation-delete",
        "webhook-test-post",
        "webhook-deliveries-get",
        "event-get",
    ]:
        assert expected in names


@pytest.mark.parametrize(
    ("basename", "url_name", "method", "viewset"),
    [route[1:] for route in ROUTES],
    ids=[route[0] for route in ROUTES],
)
def test_another_organizations_object_is_a_404(
    basename, url_name, method, viewset, org, owner, outsider_api
):
    model = viewset.queryset.model
    if model not in ROW_MAKERS:
        pytest.fail(f"Add a maker for {model.__name__} to ROW_MAKERS to walk {basename}.")
    victim = ROW_MAKERS[model](org, owner)
    before = model.objects.filter(pk=victim.pk).values().first()

    response = getattr(outsider_api, method)(
        reverse(url_name, args=[victim.pk]), {"role": "owner", "name": "x"}, format="json"
    )

    assert_error(response, 404, "not_found")
    assert model.objects.filter(pk=victim.pk).values().first() == before
