"""What an agent may do: read the CRM, search and read the public web, save a draft.

Tools never send mail and never change data other than the run's own drafts. Text from
the web reaches the model fenced as untrusted data (`untrusted()`), and the system prompt
of every agent says that such text is information, never instructions.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils import timezone

from accounts.models import Organization, User
from agents.llm import ToolSpec
from agents.models import AgentRun, Draft
from leads.models import Activity, Company, Lead

UNTRUSTED_OPEN = "<untrusted_web_content"
UNTRUSTED_CLOSE = "</untrusted_web_content>"


def cut(text: str, budget: int) -> str:
    """`text` cut to `budget` characters, saying so."""
    text = text or ""
    if len(text) <= budget:
        return text
    return text[:budget].rstrip() + f"\n[... cut: {len(text) - budget:,} more characters not shown]"


def untrusted(text: str, source: str, budget: int) -> str:
    """Web text fenced as data. A fence inside the text is defused, so a page cannot
    close it and speak as the app."""
    body = cut(text, budget)
    body = body.replace(UNTRUSTED_CLOSE, "</untrusted-web-content>").replace(
        UNTRUSTED_OPEN, "<untrusted-web-content"
    )
    source = source.replace('"', "%22")
    return f'{UNTRUSTED_OPEN} source="{source}">\n{body}\n{UNTRUSTED_CLOSE}'


class ToolError(Exception):
    """A tool could not do what was asked; the message goes back to the model."""


@dataclass
class ToolContext:
    run: AgentRun
    organization: Organization
    user: User | None
    lead: Lead | None
    web_budget: int = field(default_factory=lambda: settings.AGENT_WEB_TEXT_BUDGET)
    saved_draft: Draft | None = None
    # Sources the tools showed the model (url -> title), for the brief's citations.
    sources: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Tool:
    spec: ToolSpec
    run: Callable[[ToolContext, dict[str, Any]], str]


def _no_args(name: str, description: str) -> ToolSpec:
    return ToolSpec(name, description, {"type": "object", "properties": {}})


# CRM reads


def lead_facts(lead: Lead) -> dict[str, Any]:
    company = lead.company
    return {
        "id": lead.pk,
        "name": " ".join(p for p in (lead.first_name, lead.last_name) if p),
        "first_name": lead.first_name,
        "last_name": lead.last_name,
        "title": lead.title,
        "email": lead.email,
        "company": company.name if company else "",
        "company_domain": company.domain if company else "",
        "location": lead.location,
        "source": lead.source,
        "status": lead.status,
        "score": lead.score,
        "tags": sorted(tag.name for tag in lead.tags.all()),
        "custom_fields": lead.custom_fields,
        "last_contacted_at": lead.last_contacted_at.isoformat() if lead.last_contacted_at else None,
        "created_at": lead.created_at.isoformat(),
    }


def get_lead(ctx: ToolContext, args: dict[str, Any]) -> str:
    if ctx.lead is None:
        raise ToolError("This run has no lead.")
    return json.dumps(lead_facts(ctx.lead), ensure_ascii=False)


def company_facts(company: Company) -> dict[str, Any]:
    enriched = company.enriched_data or {}
    profile = {
        k: v for k, v in (enriched.get("profile") or {}).items() if v not in ("", [], {}, None)
    }
    return {
        "name": company.name,
        "domain": company.domain,
        "website": company.website,
        "industry": company.industry,
        "size": company.get_size_range_display() if company.size_range else "",
        "location": company.location,
        "description": company.description,
        "enriched_at": enriched.get("enriched_at"),
        "profile": profile,
        "field_sources": {
            name: source.get("url", "")
            for name, source in (enriched.get("sources") or {}).items()
            if isinstance(source, dict)
        },
    }


def enrich_now(company: Company, user: User | None) -> str:
    """Research the company through enrichment (one job of one company, metered as such)
    and apply what was found; a note of what happened."""
    from accounts.usage import QuotaExceeded
    from enrichment import jobs
    from enrichment.models import EnrichmentResult, JobSource

    queries = jobs.queries_for_companies(company.organization, [company.pk])
    if not queries:
        return "The company has nothing to research by (no name, domain or website)."
    try:
        job = jobs.create_job(
            organization=company.organization,
            user=user,
            queries=queries,
            source=JobSource.COMPANIES,
            start=False,
        )
    except (QuotaExceeded, jobs.JobError) as exc:
        return f"Enrichment was not run: {exc}"
    jobs.run_job(company.organization_id, job.pk, company_seconds=settings.ENRICH_SYNC_SECONDS)
    result = EnrichmentResult.objects.filter(job=job).first()
    if result is None or not result.profile:
        return "Enrichment ran and found nothing usable."
    jobs.apply_result(result=result, user=user)
    company.refresh_from_db()
    return "Enrichment ran just now."


def get_company_profile(ctx: ToolContext, args: dict[str, Any]) -> str:
    if ctx.lead is None or ctx.lead.company_id is None:
        raise ToolError("The lead has no company.")
    company = ctx.lead.company
    note = ""
    if not company.enriched_data:
        note = enrich_now(company, ctx.user)
    facts = company_facts(company)
    for url in facts["field_sources"].values():
        if url:
            ctx.sources.setdefault(url, "company profile")
    if note:
        facts["note"] = note
    # The profile was read off the web: fenced as such.
    return untrusted(
        json.dumps(facts, ensure_ascii=False, default=str),
        company.website or company.domain or "enrichment",
        ctx.web_budget,
    )


def list_activities(ctx: ToolContext, args: dict[str, Any]) -> str:
    if ctx.lead is None:
        raise ToolError("This run has no lead.")
    limit = max(1, min(int(args.get("limit") or 20), 50))
    rows = Activity.objects.for_lead(ctx.lead).order_by("-occurred_at", "-id")[:limit]
    items = [
        {
            "kind": row.kind,
            "when": row.occurred_at.isoformat(),
            "text": cut(row.body, 1500),
            **{k: row.data[k] for k in ("subject", "from", "to") if k in row.data},
        }
        for row in rows
    ]
    return json.dumps({"activities": items}, ensure_ascii=False, default=str)


# The web


def web_search(ctx: ToolContext, args: dict[str, Any]) -> str:
    from enrichment.outside import search_providers
    from enrichment.web.search import SearchError

    query = str(args.get("query") or "").strip()[:300]
    if not query:
        raise ToolError("Give a query.")
    providers = search_providers()
    if not providers:
        return "No search provider is configured for this install: web search is unavailable."
    errors = []
    for provider in providers:
        try:
            results = provider.search(query, count=8)
        except SearchError as exc:
            errors.append(str(exc))
            continue
        lines = []
        for result in results:
            ctx.sources.setdefault(result.url, result.title)
            date = f" ({result.published})" if result.published else ""
            lines.append(f"- {result.title}{date}\n  {result.url}\n  {result.snippet}")
        return untrusted("\n".join(lines) or "No results.", f"search: {query}", ctx.web_budget)
    raise ToolError("Search failed: " + "; ".join(errors))


def fetch_page(ctx: ToolContext, args: dict[str, Any]) -> str:
    from enrichment.outside import fetcher
    from enrichment.web.extract import extract_page
    from enrichment.web.netguard import FetchError

    url = str(args.get("url") or "").strip()
    if not url.startswith(("http://", "https://")):
        raise ToolError("Give an http(s) URL.")
    try:
        result = fetcher().get(url)
    except FetchError as exc:
        raise ToolError(f"Could not fetch {url}: {exc}") from exc
    if not result.ok:
        raise ToolError(f"{url} answered HTTP {result.status}")
    facts = extract_page(
        result.text,
        result.final_url,
        headers=result.headers,
        cookies=result.cookies,
        text_budget=ctx.web_budget,
    )
    ctx.sources.setdefault(result.final_url, facts.title)
    text = f"Title: {facts.title}\nDescription: {facts.description}\n\n{facts.text}"
    return untrusted(text, result.final_url, ctx.web_budget)


# The one write


def save_draft(ctx: ToolContext, args: dict[str, Any]) -> str:
    if ctx.lead is None:
        raise ToolError("This run has no lead.")
    subject = str(args.get("subject") or "").strip()[:300]
    body = str(args.get("body") or "").strip()
    if not subject or not body:
        raise ToolError("A draft needs a subject and a body.")
    ctx.saved_draft = store_draft(ctx, subject, body)
    return f"Draft saved (id {ctx.saved_draft.pk}). It is not sent: a rep reviews it first."


def store_draft(ctx: ToolContext, subject: str, body: str) -> Draft:
    """The run's draft: created once, updated by later saves of the same run."""
    if ctx.saved_draft is not None:
        ctx.saved_draft.subject, ctx.saved_draft.body = subject, body
        ctx.saved_draft.save(update_fields=["subject", "body", "updated_at"])
        return ctx.saved_draft
    return Draft.objects.create(
        organization=ctx.organization,
        lead=ctx.lead,
        run=ctx.run,
        agent_type=ctx.run.agent_type,
        subject=subject,
        body=body,
        created_by=ctx.user,
        created_at=timezone.now(),
    )


TOOLS: dict[str, Tool] = {
    tool.spec.name: tool
    for tool in (
        Tool(
            _no_args("get_lead", "The lead's CRM record: name, title, company, status, tags."),
            get_lead,
        ),
        Tool(
            _no_args(
                "get_company_profile",
                "The lead's company as researched from the web (enriched profile with a "
                "source URL per field); researches it first when it never was.",
            ),
            get_company_profile,
        ),
        Tool(
            ToolSpec(
                "list_activities",
                "The lead's timeline, newest first: notes, calls, meetings, emails sent and "
                "received, status changes.",
                {
                    "type": "object",
                    "properties": {"limit": {"type": "integer", "minimum": 1, "maximum": 50}},
                },
            ),
            list_activities,
        ),
        Tool(
            ToolSpec(
                "web_search",
                "Search the web. Returns titles, URLs and snippets.",
                {
                    "type": "object",
                    "properties": {"query": {"type": "string"}},
                    "required": ["query"],
                },
            ),
            web_search,
        ),
        Tool(
            ToolSpec(
                "fetch_page",
                "Read a public web page's text.",
                {
                    "type": "object",
                    "properties": {"url": {"type": "string"}},
                    "required": ["url"],
                },
            ),
            fetch_page,
        ),
        Tool(
            ToolSpec(
                "save_draft",
                "Save an email draft for the rep to review (never sends it).",
                {
                    "type": "object",
                    "properties": {"subject": {"type": "string"}, "body": {"type": "string"}},
                    "required": ["subject", "body"],
                },
            ),
            save_draft,
        ),
    )
}


def run_tool(
    ctx: ToolContext, name: str, args: dict[str, Any], allowed: tuple[str, ...]
) -> tuple[bool, str]:
    """(ok, text for the model). A tool this agent does not have, or a failure, is told to
    the model and changes nothing."""
    tool = TOOLS.get(name) if name in allowed else None
    if tool is None:
        return False, (
            f"There is no tool named {name!r} for this task. "
            f"Available: {', '.join(allowed) or 'none'}."
        )
    try:
        return True, tool.run(ctx, args if isinstance(args, dict) else {})
    except ToolError as exc:
        return False, str(exc)
