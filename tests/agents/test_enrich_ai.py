"""Enrichment with the organization's AI model connected (agents.enrich): after the rules,
the model fills the fields they left empty, each citing a page or search result it was
shown (others are dropped), labelled "ai"; the spend is metered; without a key or with the
budget spent, enrichment stays on rules alone."""

from __future__ import annotations

from decimal import Decimal

import pytest

from agents import ai
from agents.models import AISettings
from enrichment import jobs, outside
from enrichment.models import EnrichmentResult, ResultStatus
from tests.enrichment.localserver import LocalServer, Reply

pytestmark = pytest.mark.django_db

HOME = b"""<!doctype html><html><head><title>Zephyr Labs</title>
<meta name="description" content="Zephyr Labs builds wind-tunnel simulation software."></head>
<body><h1>Zephyr Labs</h1><p>Founded in 2014 in Delft. Backed by Seed Capital.</p>
<p>Our product Zephyr Sim runs in the browser.</p></body></html>"""


@pytest.fixture
def site(settings):
    server = LocalServer(default=Reply(200, HOME, {"Content-Type": "text/html"}))
    with server:
        settings.FETCH_ALLOW_HOSTS = [server.netloc]
        settings.FETCH_RESPECT_ROBOTS = False
        settings.FETCH_PER_HOST_DELAY = 0
        settings.BRAVE_API_KEY = ""
        settings.SEARXNG_URL = ""
        outside.reset_fetcher()
        yield server
    outside.reset_fetcher()


@pytest.fixture
def model(settings, llm_server):
    settings.AI_PROVIDERS = ["openai", "offline"]
    settings.OPENAI_API_KEY = "sk-test-enrich-key"
    settings.OPENAI_BASE_URL = llm_server.openai_base_url
    settings.OPENAI_MODEL = "gpt-4.1-mini"
    return llm_server.openai


def enrich(org, site):
    job = jobs.create_job(
        organization=org,
        user=None,
        queries=[{"name": "Zephyr Labs", "website": site.url("/")}],
        start=False,
    )
    jobs.run_job(org.pk, job.pk)
    return EnrichmentResult.objects.get(job=job)


def test_the_model_fills_what_the_rules_left_empty_with_sources(org, site, model):
    home = site.url("/")

    def respond(body):
        return model.make_json(
            {
                "fields": [
                    {"name": "products", "value": ["Zephyr Sim"], "source": home},
                    {"name": "investors", "value": ["Seed Capital"], "source": home},
                    {
                        "name": "funding_stage",
                        "value": "Series C",
                        "source": "https://made-up.example/",
                    },
                    {"name": "founded_year", "value": "2014", "source": home},
                ]
            },
            usage=(3000, 120),
        )

    model.responder = respond
    result = enrich(org, site)
    assert result.status == ResultStatus.SUCCEEDED, result.error
    assert result.profile["products"] == ["Zephyr Sim"]
    assert (
        result.sources["products"]["method"] == "ai" and result.sources["products"]["url"] == home
    )
    assert result.profile["investors"] == ["Seed Capital"]
    assert not result.profile.get("funding_stage")  # cited a page it was never shown
    ai_step = next(s for s in result.steps if s["step"] == "ai")
    assert (
        ai_step["status"] == "ok"
        and "1 answer without a source read here dropped" in ai_step["note"]
    )
    body = model.last_body
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    assert "<untrusted_web_content" in user and "wind-tunnel simulation" in user
    assert body["max_completion_tokens"] == 1500
    # 3000 in, 120 out on gpt-4.1-mini: 0.12 + 0.0192 cents.
    assert ai.spent_cents(org) == Decimal("0.1392")


def test_the_api_says_which_results_a_model_touched(org, site, model, owner_api):
    model.responder = lambda body: model.make_json({"fields": []})
    result = enrich(org, site)
    from enrichment.api import flat_result

    assert flat_result(result)["reconciled_by"] == "ai"


def test_a_failing_model_keeps_the_rules_profile(org, site, model):
    model.responder = lambda body: model.make_error(401, "bad key")
    result = enrich(org, site)
    assert result.status == ResultStatus.SUCCEEDED
    assert result.profile["description"].startswith("Zephyr Labs builds")
    ai_step = next(s for s in result.steps if s["step"] == "ai")
    assert ai_step["status"] == "failed"


def test_without_a_key_or_budget_enrichment_is_rules_alone(org, site, model, settings):
    AISettings.objects.create(organization=org, monthly_budget_cents=1)
    ai.meter(org, None, Decimal(2), metadata={})
    result = enrich(org, site)
    assert not any(s["step"] == "ai" for s in result.steps)
    settings.OPENAI_API_KEY = ""
    AISettings.objects.filter(organization=org).update(monthly_budget_cents=None)
    result = enrich(org, site)
    assert not any(s["step"] == "ai" for s in result.steps)
    assert model.requests == []
