"""Research one company: find its website, read its pages, search the web, reconcile.

`research_company()` is the whole flow for one company and runs in a worker thread (the job
runs many at once, see enrichment.jobs). Every step is recorded with how long it took and
how it ended; a failed step keeps what the others found. Pages and searches of one company
run concurrently too (the fetcher keeps its per-host limit and politeness delay), so a
company costs about the time of its slowest requests, not their sum.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.db import connections

from enrichment.ai import ProfileModel, fill_profile, refine_profile
from enrichment.reconcile import Profile
from enrichment.web.netguard import FetchError
from enrichment.web.search import SearchError, SearchProvider
from leads.utils import FREE_MAIL_DOMAINS, registered_domain

# Pages worth reading besides the home page, in order of use.
PAGE_KINDS = ("about", "contact", "pricing", "careers", "team", "customers")
MAX_SUBPAGES = 5
# Searches per company: name -> (query template, kind).
SEARCHES = {
    "funding": ("{name} funding round investors", "web"),
    "news": ("{name}", "news"),
    "competitors": ("{name} competitors alternatives", "web"),
}
# Hosts that are about companies but not theirs: never taken as a company's website.
NOT_A_WEBSITE = frozenset(
    {
        "linkedin.com",
        "facebook.com",
        "twitter.com",
        "x.com",
        "instagram.com",
        "youtube.com",
        "crunchbase.com",
        "wikipedia.org",
        "bloomberg.com",
        "glassdoor.com",
        "indeed.com",
        "g2.com",
        "capterra.com",
        "trustpilot.com",
        "zoominfo.com",
        "apollo.io",
        "pitchbook.com",
        "owler.com",
        "dnb.com",
        "yelp.com",
        "github.com",
        "medium.com",
        "techcrunch.com",
        "reuters.com",
        "forbes.com",
    }
)


def in_worker_thread(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run `function` on a pool thread, then close the database connections that thread
    opened (the fetch cache reads and writes rows): a pool thread's connections would
    otherwise stay open until the thread is collected."""
    try:
        return function(*args, **kwargs)
    finally:
        connections.close_all()


class Cancelled(Exception):
    """The job was cancelled: stop between steps."""


@dataclass
class Outcome:
    profile: Profile
    steps: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        """Something was found beyond what was asked."""
        found = {k for k, v in self.profile.fields.items() if v not in (None, "", [], {})}
        return bool(found - {"name", "website", "domain", "sources"})


class _Steps:
    """The step log of one company, safe to write from the company's threads."""

    def __init__(self, cancelled: Callable[[], bool], deadline: float | None = None):
        self.items: list[dict[str, Any]] = []
        self.cancelled = cancelled
        self.deadline = deadline

    def check(self) -> None:
        if self.cancelled():
            raise Cancelled

    def run(self, name: str, work: Callable[[], Any]) -> Any:
        """Run one step, record it, return its value (None when it failed or was skipped)."""
        self.check()
        started = time.perf_counter()
        entry: dict[str, Any] = {"step": name, "status": "ok", "note": ""}
        try:
            if (
                self.deadline is not None
                and time.monotonic() > self.deadline
                and name != "reconcile"
            ):
                raise Skip("The time limit was reached before this step.")
            value = work()
            if isinstance(value, dict) and value.get("note"):  # ok, with a remark (a page cut)
                entry["note"] = str(value["note"])[:300]
        except Skip as skip:
            entry.update(status="skipped", note=str(skip))
            value = None
        except (FetchError, SearchError) as exc:
            entry.update(status="failed", note=str(exc)[:300])
            value = None
        except Exception as exc:  # a bug in one step must not lose the others
            entry.update(status="failed", note=f"{type(exc).__name__}: {exc}"[:300])
            value = None
        entry["ms"] = round((time.perf_counter() - started) * 1000)
        self.items.append(entry)
        return value


class Skip(Exception):
    """A step that does not apply (no website, no search provider, ...), with why."""


def website_of(query: dict[str, Any]) -> str:
    """The website a query names directly: its website, its domain, or its email's domain."""
    website = (query.get("website") or "").strip()
    if website:
        if "://" not in website:
            website = f"https://{website}"
        parts = urlsplit(website)
        if parts.scheme in ("http", "https") and parts.hostname:
            return f"{parts.scheme}://{parts.netloc}{parts.path or '/'}"
    domain = registered_domain(query.get("domain") or "")
    if not domain and query.get("email"):
        email_domain = query["email"].rpartition("@")[2].lower()
        if email_domain and email_domain not in FREE_MAIL_DOMAINS:
            domain = registered_domain(email_domain)
    return f"https://{domain}/" if domain else ""


def _search(providers: list[SearchProvider], query: str, kind: str, count: int = 8) -> list[dict]:
    """The first provider that answers; every provider failing is a SearchError."""
    errors = []
    for provider in providers:
        try:
            return [
                {
                    "title": r.title,
                    "url": r.url,
                    "snippet": r.snippet,
                    "published": r.published,
                    "provider": r.provider,
                }
                for r in provider.search(query, count=count, kind=kind)
            ]
        except SearchError as exc:
            errors.append(f"{provider.name}: {exc}")
    raise SearchError("; ".join(errors) or "No search provider answered.")


def research_company(
    query: dict[str, Any],
    *,
    fetcher,
    providers: list[SearchProvider],
    cancelled: Callable[[], bool] = lambda: False,
    text_budget: int = 20_000,
    deadline: float | None = None,
    model: ProfileModel | None = None,
) -> Outcome:
    """Everything about one company (see the module docstring). Raises Cancelled. Past
    `deadline` (time.monotonic()) no new step starts; what was found is still reconciled."""
    steps = _Steps(cancelled, deadline)
    evidence: dict[str, Any] = {"query": query, "pages": [], "searches": {}}
    name = (query.get("name") or "").strip()

    def find_website() -> str:
        direct = website_of(query)
        if direct:
            return direct
        if not name:
            raise Skip("Nothing to search for: no name, domain or website.")
        if not providers:
            raise Skip("No search provider is configured, and no website or domain was given.")
        for result in _search(providers, f"{name} official website", "web"):
            domain = registered_domain(result["url"])
            if domain and domain not in NOT_A_WEBSITE:
                return f"https://{urlsplit(result['url']).netloc}/"
        raise Skip("The search found no website for this name.")

    website = steps.run("find website", find_website) or ""
    evidence["website"] = website
    evidence["domain"] = registered_domain(website) if website else ""

    from enrichment.web.extract import extract_page

    def read(url: str, kind: str) -> dict[str, Any]:
        result = fetcher.get(url)
        if not result.ok:
            raise FetchError(f"{url} answered HTTP {result.status}")
        facts = extract_page(
            result.text,
            result.final_url,
            headers=result.headers,
            cookies=result.cookies,
            text_budget=text_budget,
        )
        page = {"url": result.final_url, "kind": kind, "facts": facts.as_dict()}
        if result.truncated:
            page["note"] = (
                f"The page was cut at {len(result.body):,} bytes (the size cap); "
                "the rest was not read."
            )
        evidence["pages"].append(page)
        return page

    home = None
    if website:
        home = steps.run("read home page", lambda: read(website, "home"))
        if home:  # the home page may redirect to the real domain
            evidence["domain"] = registered_domain(home["url"]) or evidence["domain"]
            evidence["website"] = home["url"]
    if not name and home:
        org = home["facts"].get("organization") or {}
        name = org.get("name") or home["facts"].get("site_name") or ""

    jobs: list[tuple[str, Callable[[], Any]]] = []
    if home:
        links = home["facts"].get("links") or {}
        seen = {home["url"]}
        for kind in PAGE_KINDS:
            url = links.get(kind)
            if url and url not in seen and len(seen) <= MAX_SUBPAGES:
                seen.add(url)
                jobs.append((f"read {kind} page", lambda url=url, kind=kind: read(url, kind)))
    search_name = name or evidence["domain"]
    for key, (template, kind) in SEARCHES.items():

        def search(key=key, template=template, kind=kind):
            if not providers:
                raise Skip("No search provider is configured.")
            if not search_name:
                raise Skip("No name to search for.")
            evidence["searches"][key] = _search(providers, template.format(name=search_name), kind)

        jobs.append((f"search {key}", search))
    if jobs:
        with ThreadPoolExecutor(max_workers=min(6, len(jobs))) as pool:
            futures = [
                pool.submit(in_worker_thread, steps.run, label, work) for label, work in jobs
            ]
            for future in futures:
                future.result()  # re-raises Cancelled
    evidence["pages"].sort(key=lambda p: ["home", *PAGE_KINDS].index(p["kind"]))
    if not providers:
        evidence["search_note"] = (
            "No search provider is configured: funding, news and competitors were not searched."
        )
    steps.check()
    profile = steps.run("reconcile", lambda: fill_profile(evidence)) or Profile()
    if model is not None and (evidence["pages"] or evidence["searches"]):
        steps.run("ai", lambda: refine_profile(model, evidence, profile))
    failed = [s for s in steps.items if s["status"] == "failed"]
    error = "; ".join(f"{s['step']}: {s['note']}" for s in failed)[:1000]
    if not evidence["pages"] and not website:
        error = error or next((s["note"] for s in steps.items if s["status"] == "skipped"), "")
    return Outcome(profile=profile, steps=steps.items, error=error, evidence=evidence)
