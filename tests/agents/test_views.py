"""The agents pages: the lead page's AI panel, drafts, suggestions, runs, bulk runs and
Settings > AI (keys encrypted at rest), with the roles that may use them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test import override_settings

from accounts import crypto
from agents import ai, services
from agents.models import (
    AgentRun,
    AgentType,
    AISettings,
    Draft,
    DraftStatus,
    ProviderKey,
    Suggestion,
)
from leads.models import Status
from tests import factories

pytestmark = pytest.mark.django_db

OFFLINE = override_settings(AI_PROVIDERS=["offline"])


@pytest.fixture
def lead(org, owner):
    company = factories.make_company(
        org,
        name="Globex",
        domain="globex.example",
        website="https://globex.example/",
        enriched_data={
            "profile": {"description": "Globex makes freight software.", "industry": "Logistics"},
            "sources": {"industry": {"url": "https://globex.example/", "method": "meta"}},
        },
    )
    return factories.make_lead(
        org, actor=owner, first_name="Grace", email="grace@globex.example", company=company
    )


@pytest.fixture
def executing(django_capture_on_commit_callbacks):
    """`with executing():` queued runs execute at the end of the block, as a worker would
    once the request's transaction commits."""
    from contextlib import contextmanager

    @contextmanager
    def block():
        with OFFLINE, django_capture_on_commit_callbacks(execute=True):
            yield

    return block


def url(org, path):
    return f"/o/{org.slug}/{path}"


def test_lead_page_loads_the_ai_panel_after_itself(owner_client, org, lead):
    body = owner_client.get(url(org, f"leads/{lead.pk}/")).content.decode()
    panel = url(org, f"agents/leads/{lead.pk}/")
    assert f'hx-get="{panel}" hx-trigger="load"' in body
    assert f'<a href="{panel}">Open AI assistant</a>' in body


def test_panel_runs_research_and_shows_the_brief_with_sources(owner_client, org, lead, executing):
    panel = url(org, f"agents/leads/{lead.pk}/")
    with executing():
        response = owner_client.post(
            url(org, f"agents/leads/{lead.pk}/run/"),
            {"agent_type": "research"},
            HTTP_HX_REQUEST="true",
        )
    assert response.status_code == 200
    body = owner_client.get(panel, HTTP_HX_REQUEST="true").content.decode()
    assert "Research brief" in body and "written by rules, no AI model" in body
    assert "Globex makes freight software." in body
    assert 'href="https://globex.example/" rel="noopener noreferrer nofollow"' in body
    assert "Offline rules only" in body
    run = AgentRun.objects.get(lead=lead)
    detail = owner_client.get(url(org, f"agents/runs/{run.pk}/")).content.decode()
    assert "Tool: get_company_profile" in detail and "Trajectory" in detail


def test_draft_edit_send_discard_and_regenerate(owner_client, org, owner, lead, executing):
    with executing():
        owner_client.post(url(org, f"agents/leads/{lead.pk}/run/"), {"agent_type": "outreach"})
    draft = Draft.objects.get(lead=lead)
    body = owner_client.get(url(org, f"agents/leads/{lead.pk}/")).content.decode()
    assert f'id="draft-{draft.pk}"' in body and "Mark ready to send" in body

    base = url(org, f"agents/drafts/{draft.pk}/")
    owner_client.post(base + "save/", {"subject": "New subject", "body": "Hi Grace,\n\nEdited."})
    draft.refresh_from_db()
    assert (draft.subject, draft.body, draft.edited) == (
        "New subject",
        "Hi Grace,\n\nEdited.",
        True,
    )

    owner_client.post(base + "send/", {"subject": "New subject", "body": "Final words"})
    draft.refresh_from_db()
    assert draft.status == DraftStatus.READY and draft.body == "Final words"

    with executing():
        owner_client.post(base + "regenerate/")
    draft.refresh_from_db()
    assert draft.status == DraftStatus.DISCARDED
    fresh = Draft.objects.exclude(pk=draft.pk).get(lead=lead)
    assert fresh.status == DraftStatus.DRAFT

    owner_client.post(url(org, f"agents/drafts/{fresh.pk}/discard/"))
    fresh.refresh_from_db()
    assert fresh.status == DraftStatus.DISCARDED
    assert owner_client.post(url(org, f"agents/drafts/{fresh.pk}/explode/")).status_code == 404


def test_model_text_is_sanitized_when_shown(owner_client, org, owner, lead):
    run = AgentRun.objects.create(
        organization=org,
        lead=lead,
        agent_type=AgentType.RESEARCH,
        status="completed",
        success=True,
        result={
            "summary": 'Hello <script>alert(1)</script><img src=x onerror=alert(2)><a href="javascript:alert(3)">x</a>',
            "facts": [{"text": "Fact", "source": "javascript:alert(4)"}],
            "recent_events": [],
            "priorities": [],
            "fit": "",
            "talking_points": [],
        },
    )
    body = owner_client.get(url(org, f"agents/runs/{run.pk}/")).content.decode()
    assert "<script>alert(1)" not in body and "onerror" not in body
    assert "javascript:alert(3)" not in body
    assert 'href="javascript:alert(4)"' not in body


def test_suggestion_accept_applies_it_and_dismiss_does_not(owner_client, org, owner, lead):
    suggestion = Suggestion.objects.create(
        organization=org, lead=lead, status=Status.QUALIFIED, score=77, reasons=["Fits"]
    )
    owner_client.post(url(org, f"agents/suggestions/{suggestion.pk}/accept/"))
    lead.refresh_from_db()
    assert lead.status == Status.QUALIFIED and lead.score == 77
    other = Suggestion.objects.create(organization=org, lead=lead, status=Status.LOST, score=1)
    owner_client.post(url(org, f"agents/suggestions/{other.pk}/dismiss/"))
    lead.refresh_from_db()
    assert lead.status == Status.QUALIFIED
    other.refresh_from_db()
    assert other.state == "dismissed"


def test_viewer_reads_but_cannot_run(viewer_client, org, lead):
    assert viewer_client.get(url(org, f"agents/leads/{lead.pk}/")).status_code == 200
    response = viewer_client.post(
        url(org, f"agents/leads/{lead.pk}/run/"), {"agent_type": "research"}
    )
    assert response.status_code == 403
    assert not AgentRun.objects.exists()


def test_outsider_gets_404(outsider_client, org, lead):
    assert outsider_client.get(url(org, f"agents/leads/{lead.pk}/")).status_code == 404


def test_bulk_research_from_the_lead_list(owner_client, org, owner, lead, executing):
    second = factories.make_lead(org, actor=owner, first_name="Ada", email="ada@x.example")
    with executing():
        response = owner_client.post(
            url(org, "agents/bulk/research/"), {"ids": [lead.pk, second.pk]}
        )
    assert response.status_code == 302 and "?batch=" in response["Location"]
    runs = AgentRun.objects.filter(agent_type=AgentType.RESEARCH)
    assert runs.count() == 2 and len({run.batch for run in runs}) == 1
    assert all(run.success for run in runs)
    listing = owner_client.get(response["Location"]).content.decode()
    assert (
        "Showing one bulk run" in listing and listing.count('class="status status-completed"') == 2
    )


def test_bulk_actions_are_offered_on_the_lead_list(owner_client, org, lead):
    body = owner_client.get(url(org, "leads/")).content.decode()
    assert "Research with AI" in body and url(org, "agents/bulk/research/") in body


def test_keys_are_encrypted_at_rest_and_never_shown_again(owner_client, org):
    secret = "sk-live-0123456789abcdefWXYZ"
    response = owner_client.post(
        url(org, "settings/ai/keys/"), {"provider": "openai", "key": secret}
    )
    assert response.status_code == 302
    with connection.cursor() as cursor:
        cursor.execute("SELECT encrypted_key, hint FROM agents_providerkey")
        stored, hint = cursor.fetchone()
    assert secret not in stored and "WXYZ" not in stored
    assert hint == "…WXYZ"
    assert crypto.decrypt(stored) == secret
    page = owner_client.get(url(org, "settings/ai/")).content.decode()
    assert secret not in page and "…WXYZ" in page
    assert ai.chain_for(org)[0].api_key == secret


def test_key_rotation_re_encrypts_under_the_new_key(org, owner):
    from cryptography.fernet import Fernet

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with override_settings(FIELD_ENCRYPTION_KEYS=[old]):
        ai.set_key(organization=org, provider="anthropic", key="sk-ant-abcdefghijkl", user=owner)
        before = ProviderKey.objects.get().encrypted_key
    with override_settings(FIELD_ENCRYPTION_KEYS=[new, old]):
        assert ai.rotate_keys() == 1
        after = ProviderKey.objects.get().encrypted_key
        assert after != before
    with override_settings(FIELD_ENCRYPTION_KEYS=[new]):
        assert crypto.decrypt(after) == "sk-ant-abcdefghijkl"


def test_only_admins_change_ai_settings(member_client, org, owner):
    data = {
        "offer": "Route planning",
        "providers": "anthropic, offline",
        "monthly_budget_cents": "900",
    }
    assert member_client.post(url(org, "settings/ai/"), data).status_code == 403
    assert (
        member_client.post(
            url(org, "settings/ai/keys/"), {"provider": "openai", "key": "sk-0123456789"}
        ).status_code
        == 403
    )
    owner_client = member_client
    owner_client.force_login(owner)
    assert owner_client.post(url(org, "settings/ai/"), data).status_code == 302
    saved = AISettings.objects.get(organization=org)
    assert (saved.offer, saved.providers, saved.monthly_budget_cents) == (
        "Route planning",
        "anthropic,offline",
        900,
    )
    bad = owner_client.post(url(org, "settings/ai/"), {"providers": "openai, skynet"})
    assert bad.status_code == 400 and "Unknown provider: skynet" in bad.content.decode()


@override_settings(AI_PROVIDERS=["openai", "offline"], OPENAI_API_KEY="sk-test-install-key")
def test_a_spent_budget_stops_new_runs_cleanly(owner_client, org, owner, lead):
    AISettings.objects.create(organization=org, monthly_budget_cents=10)
    ai.meter(org, owner, Decimal("10.5"), metadata={})
    response = owner_client.post(
        url(org, f"agents/leads/{lead.pk}/run/"), {"agent_type": "research"}, follow=True
    )
    assert "This month&#x27;s AI budget is spent" in response.content.decode()
    assert not AgentRun.objects.exists()
    with pytest.raises(ai.BudgetExceeded):
        services.start_run(organization=org, user=owner, agent_type="research", lead=lead)


def test_send_a_draft_through_the_campaigns_mailer(owner_client, org, owner, lead, executing):
    """With a sender, "Send" mails the draft to the lead over SMTP (a real sink here)."""
    from aiosmtpd.controller import Controller

    from campaigns.models import Message, Sender
    from tests.campaigns.conftest import Sink, _free_port

    sink = Sink()
    sink.port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port, ready_timeout=10)
    controller.start()
    try:
        Sender.objects.create(
            organization=org,
            name="Rita",
            email="rita@acme.example",
            smtp_host="127.0.0.1",
            smtp_port=sink.port,
            smtp_security="none",
        )
        with executing():
            owner_client.post(url(org, f"agents/leads/{lead.pk}/run/"), {"agent_type": "outreach"})
        draft = Draft.objects.get(lead=lead)
        panel = owner_client.get(url(org, f"agents/leads/{lead.pk}/")).content.decode()
        assert ">Send</button>" in panel
        owner_client.post(
            url(org, f"agents/drafts/{draft.pk}/send/"),
            {"subject": "Hello Grace", "body": "Hi Grace,\n\nShort note."},
        )
    finally:
        controller.stop()
    draft.refresh_from_db()
    assert draft.status == DraftStatus.SENT and draft.sent_at is not None
    assert [r.rcpt_tos for r in sink.received] == [["grace@globex.example"]]
    assert sink.received[0].message["Subject"] == "Hello Grace"
    message = Message.objects.get(lead=lead)
    assert message.status == "sent" and message.campaign is None
