"""Plain builders for test data. Where realism matters they call the real services."""

from __future__ import annotations

import itertools

from accounts import services
from accounts.models import Membership, Organization, Role, User

_seq = itertools.count(1)

PASSWORD = "correct-horse-battery-staple"


def make_user(
    email: str | None = None, *, name: str = "", password: str = PASSWORD, **extra
) -> User:
    n = next(_seq)
    return User.objects.create_user(
        email=email or f"user{n}@example.com", password=password, name=name or f"User {n}", **extra
    )


def make_org(name: str | None = None, *, owner: User | None = None) -> Organization:
    owner = owner or make_user()
    return services.create_organization(name=name or f"Org {next(_seq)}", owner=owner)


def add_member(org: Organization, user: User | None = None, role: str = Role.MEMBER) -> User:
    user = user or make_user()
    Membership.objects.create(organization=org, user=user, role=role)
    return user


def make_api_key(org: Organization, user: User, scopes: dict[str, str] | None = None, **extra):
    """Returns (ApiKey, raw key)."""
    return services.create_api_key(
        organization=org,
        user=user,
        name=extra.pop("name", "Test key"),
        scopes=scopes
        if scopes is not None
        else dict.fromkeys(("leads", "enrichment", "agents", "campaigns", "organization"), "write"),
        **extra,
    )


def populate_org(org: Organization) -> None:
    """At least two rows of every organization-owned model, for the cross-tenant walk.

    Later apps extend this with their models; tests/test_tenancy_walk.py fails for any
    OrgScoped model left without rows here.
    """
    from django.utils import timezone

    from accounts import events
    from accounts.models import (
        AccessToken,
        Invitation,
        UsageEvent,
        WebhookDelivery,
        WebhookEndpoint,
        hash_secret,
    )

    owner = (
        Membership.objects.for_org(org).filter(role=Role.OWNER).select_related("user").first().user
    )
    for role in (Role.MEMBER, Role.VIEWER):
        add_member(org, role=role)
    for n in range(2):
        Invitation.objects.create(
            organization=org,
            email=f"invitee{next(_seq)}@example.com",
            role=Role.MEMBER,
            token_hash=hash_secret(f"token-{next(_seq)}"),
            invited_by=owner,
            expires_at=Invitation.default_expiry(),
        )
        make_api_key(org, owner, name=f"Key {n}")
        _raw, prefix, digest = AccessToken.generate()
        AccessToken.objects.create(organization=org, user=owner, prefix=prefix, key_hash=digest)
        UsageEvent.objects.create(organization=org, action="api.request", quantity=1)
    endpoints = [
        WebhookEndpoint.objects.create(
            organization=org,
            url=f"https://hooks.example.com/{n}",
            event_types=["*"],
            secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            created_by=owner,
        )
        for n in range(2)
    ]
    event = events.emit(org, "test.populated", {"at": timezone.now().isoformat()}, actor=owner)
    for endpoint in endpoints:
        WebhookDelivery.objects.get_or_create(
            organization=org, endpoint=endpoint, event=event, defaults={"next_attempt_at": None}
        )
    _populate_leads(org, owner)
    _populate_enrichment(org, owner)
    _populate_agents(org, owner)
    _populate_campaigns(org, owner)


def _populate_enrichment(org: Organization, owner: User) -> None:
    from enrichment.models import EnrichmentJob, EnrichmentResult, JobStatus, ResultStatus
    from leads.models import Company

    companies = list(Company.objects.for_org(org)[:2])
    for n in range(2):
        job = EnrichmentJob.objects.create(
            organization=org, created_by=owner, status=JobStatus.COMPLETED, total=2, completed=2
        )
        for position, company in enumerate(companies):
            EnrichmentResult.objects.create(
                organization=org,
                job=job,
                position=position,
                company=company,
                query={"name": company.name, "domain": company.domain},
                status=ResultStatus.SUCCEEDED,
                profile={"name": company.name, "domain": company.domain, "industry": f"I{n}"},
                sources={"industry": {"url": "https://example.com/", "method": "json-ld"}},
            )


def _populate_agents(org: Organization, owner: User) -> None:
    from agents import ai
    from agents.models import AgentRun, AgentStep, AISettings, Draft, Suggestion
    from leads.models import Lead

    AISettings.objects.create(organization=org, offer=f"Offer of {org.name}")
    ai.set_key(organization=org, provider="openai", key=f"sk-{org.slug}-0123456789", user=owner)
    for lead in Lead.objects.for_org(org).order_by("pk")[:2]:
        run = AgentRun.objects.create(
            organization=org,
            user=owner,
            lead=lead,
            agent_type="outreach",
            status="completed",
            success=True,
            provider="offline",
            model="rules",
            result={"subject": "Hi"},
        )
        AgentStep.objects.create(
            organization=org, run=run, index=0, kind="model", name="offline/rules"
        )
        Draft.objects.create(
            organization=org, lead=lead, run=run, agent_type="outreach", subject="Hi", body="Hello"
        )
        Suggestion.objects.create(
            organization=org, lead=lead, run=run, status="qualified", score=70
        )


def _populate_campaigns(org: Organization, owner: User) -> None:
    from django.utils import timezone

    from campaigns.models import Campaign, Enrollment, Message, Sender, Step
    from leads.models import Lead

    sender = Sender.objects.create(
        organization=org, name="Sales", email=f"sales@{org.slug}.example"
    )
    campaign = Campaign.objects.create(
        organization=org, name="Welcome", sender=sender, created_by=owner
    )
    step = Step.objects.create(
        organization=org, campaign=campaign, order=1, subject="Hi", body="Hello"
    )
    for lead in Lead.objects.for_org(org).exclude(email="").order_by("pk")[:2]:
        enrollment = Enrollment.objects.create(organization=org, campaign=campaign, lead=lead)
        Message.objects.create(
            organization=org,
            enrollment=enrollment,
            campaign=campaign,
            step=step,
            lead=lead,
            sender=sender,
            to_email=lead.email,
            subject="Hi",
            body_text="Hello",
            message_id=f"{org.slug}-{lead.pk}@example.test",
            status="sent",
            sent_at=timezone.now(),
        )


def make_company(org: Organization, **fields):
    from leads.models import Company

    n = next(_seq)
    fields.setdefault("name", f"Company {n}")
    fields.setdefault("domain", f"company{n}.example")
    return Company.objects.create(organization=org, **fields)


def make_lead(org: Organization, *, actor: User | None = None, tags=(), **fields):
    """A lead through the real service (timeline entry and event included)."""
    from leads import services as lead_services

    n = next(_seq)
    fields.setdefault("first_name", f"Lead{n}")
    fields.setdefault("last_name", "Example")
    fields.setdefault("email", f"lead{n}@lead{n}.example")
    return lead_services.create_lead(organization=org, actor=actor, data=fields, tags=tags)


def _populate_leads(org: Organization, owner: User) -> None:
    from leads import services as lead_services
    from leads.models import (
        ActivityKind,
        CaptureForm,
        CustomFieldDefinition,
        FormSubmission,
        ImportChange,
        ImportJob,
        ImportRowError,
        LeadTask,
        SavedView,
        ScoringProfile,
        Suppression,
    )

    for n in range(2):
        company = make_company(org)
        lead = make_lead(org, actor=owner, company=company, tags=[f"tag-{n}", "shared"])
        lead_services.add_activity(lead=lead, kind=ActivityKind.NOTE, actor=owner, body="Called")
        Suppression.objects.create(
            organization=org, email=f"gone{next(_seq)}@example.com", reason="erased"
        )
        CustomFieldDefinition.objects.create(organization=org, key=f"field_{n}", label=f"Field {n}")
        LeadTask.objects.create(organization=org, lead=lead, title="Follow up", assignee=owner)
        SavedView.objects.create(organization=org, user=owner, name=f"View {n}", query="status=new")
        job = ImportJob.objects.create(
            organization=org, created_by=owner, file="imports/x.csv", original_filename="x.csv"
        )
        ImportRowError.objects.create(organization=org, job=job, line_number=2, reason="No email")
        ImportChange.objects.create(organization=org, job=job, lead=lead, action="created")
        form = CaptureForm.objects.create(
            organization=org, name=f"Form {n}", fields=[{"name": "email", "required": True}]
        )
        FormSubmission.objects.create(
            organization=org, form=form, lead=lead, data={"email": lead.email}
        )
    ScoringProfile.objects.get_or_create(organization=org)
