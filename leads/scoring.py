"""Lead scoring: how close a lead is to the organization's ideal customer, 0-100, explained.

`score_lead` is a pure function of a lead (with its company) and a ScoringProfile. The
`rescore_*` helpers write its result: one lead after a create or an edit, a company's leads
after the company changed, a chunk of an organization's leads on the worker.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import phonenumbers

from leads.models import Company, CompanySize, Lead, ScoringProfile

RULES = ("industry", "company_size", "country", "title", "seniority", "complete")
RULE_LABELS = {
    "industry": "Industry",
    "company_size": "Company size",
    "country": "Country",
    "title": "Title keywords",
    "seniority": "Seniority",
    "complete": "Required fields",
}
DEFAULT_WEIGHTS = {
    "industry": 25,
    "company_size": 20,
    "country": 15,
    "title": 20,
    "seniority": 15,
    "complete": 5,
}

SENIORITIES = (
    ("c_level", "C-level and founders"),
    ("vp", "VP"),
    ("director", "Director and head of"),
    ("manager", "Manager"),
    ("individual", "Individual contributor"),
)
# Checked in this order: "VP of Engineering Manager" is a VP, and so is a Vice President.
_SENIORITY_PATTERNS = (
    ("vp", r"\b(vp|svp|evp|avp|vice[- ]president)\b"),
    ("c_level", r"\b(c[aeimotrsx]o|chief|founder|co-?founder|owner|president|partner)\b"),
    ("director", r"\b(director|head)\b"),
    ("manager", r"\b(manager|mgr|lead|supervisor)\b"),
)

# Lead fields a profile may require (the "complete" rule).
REQUIRED_FIELD_CHOICES = (
    ("email", "Email"),
    ("phone", "Phone"),
    ("first_name", "First name"),
    ("last_name", "Last name"),
    ("title", "Title"),
    ("company", "Company"),
    ("linkedin_url", "LinkedIn URL"),
    ("location", "Location"),
)


def seniority_of(title: str) -> str:
    """ "c_level", "vp", "director", "manager" or "individual" from a job title; "" for none."""
    title = (title or "").strip().lower()
    if not title:
        return ""
    for level, pattern in _SENIORITY_PATTERNS:
        if re.search(pattern, title):
            return level
    return "individual"


def _contains_word(text: str, needle: str) -> bool:
    needle = needle.strip().lower()
    return (
        bool(needle) and re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", text.lower()) is not None
    )


def _country_matches(lead: Lead, company: Company | None, countries: list[str]) -> str:
    """The profile country this lead is in ("" for none), from locations and the phone."""
    places = [lead.location or "", company.location if company else ""]
    region = ""
    if lead.phone:
        try:
            region = phonenumbers.region_code_for_number(phonenumbers.parse(lead.phone)) or ""
        except phonenumbers.NumberParseException:
            region = ""
    for country in countries:
        wanted = country.strip()
        if not wanted:
            continue
        if len(wanted) == 2 and wanted.upper() == region:
            return wanted
        if len(wanted) == 2:
            # "Berlin, DE": a code only counts as the last part of a location.
            if any(
                place.rsplit(",", 1)[-1].strip().upper() == wanted.upper()
                for place in places
                if "," in place
            ):
                return wanted
            continue
        if any(_contains_word(place, wanted) for place in places):
            return wanted
    return ""


def _filled(lead: Lead, field: str) -> bool:
    if field == "company":
        return lead.company_id is not None
    return bool(getattr(lead, field, ""))


def weights_of(profile: ScoringProfile) -> dict[str, int]:
    weights = dict(DEFAULT_WEIGHTS)
    for rule, value in (profile.weights or {}).items():
        if rule in weights:
            try:
                weights[rule] = max(0, min(100, int(value)))
            except (TypeError, ValueError):
                continue
    return weights


def is_configured(profile: ScoringProfile | None) -> bool:
    return profile is not None and any(
        (
            profile.industries,
            profile.company_sizes,
            profile.countries,
            profile.title_keywords,
            profile.seniorities,
            profile.required_fields,
        )
    )


def score_lead(lead: Lead, profile: ScoringProfile | None) -> tuple[int, list[dict[str, Any]]]:
    """(score 0-100, explanation) of a lead against the ideal customer profile.

    Only rules the profile describes count: the score is the points the lead earned over the
    points it could earn, so a profile that lists only industries still scores out of 100.
    Each explanation item is {rule, points, weight, matched, detail}. Pure: reads `lead`,
    `lead.company` (select it beforehand) and `profile`, writes nothing.
    """
    if not is_configured(profile):
        return 0, []
    weights = weights_of(profile)
    company = lead.company if lead.company_id else None
    explanation: list[dict[str, Any]] = []

    def rule(name: str, matched: bool, detail: str, fraction: float | None = None) -> None:
        share = fraction if fraction is not None else (1.0 if matched else 0.0)
        explanation.append(
            {
                "rule": name,
                "points": round(weights[name] * share),
                "weight": weights[name],
                "matched": matched,
                "detail": detail,
            }
        )

    if profile.industries:
        industry = (company.industry if company else "") or ""
        hit = next((i for i in profile.industries if i and _contains_word(industry, i)), "")
        rule(
            "industry",
            bool(hit),
            f"Industry {industry} is a target ({hit})"
            if hit
            else (f"Industry {industry} is not a target" if industry else "Industry unknown"),
        )
    if profile.company_sizes:
        size = (company.size_range if company else "") or ""
        label = CompanySize(size).label if size in CompanySize.values else ""
        matched = size in profile.company_sizes
        rule(
            "company_size",
            matched,
            f"{label} employees is a target size"
            if matched
            else (f"{label} employees is not a target size" if size else "Company size unknown"),
        )
    if profile.countries:
        hit = _country_matches(lead, company, profile.countries)
        rule("country", bool(hit), f"Located in {hit}" if hit else "Not in a target country")
    if profile.title_keywords:
        title = lead.title or ""
        hits = [k for k in profile.title_keywords if k and _contains_word(title, k)]
        rule(
            "title",
            bool(hits),
            f"Title mentions {', '.join(hits)}"
            if hits
            else ("No target keyword in the title" if title else "No title"),
        )
    if profile.seniorities:
        level = seniority_of(lead.title)
        names = dict(SENIORITIES)
        matched = level in profile.seniorities
        rule(
            "seniority",
            matched,
            f"{names[level]} is a target seniority"
            if matched
            else (f"{names[level]} is not a target seniority" if level else "Seniority unknown"),
        )
    if profile.required_fields:
        required = [f for f in profile.required_fields if f in dict(REQUIRED_FIELD_CHOICES)]
        if required:
            missing = [f for f in required if not _filled(lead, f)]
            labels = dict(REQUIRED_FIELD_CHOICES)
            rule(
                "complete",
                not missing,
                "All required fields are filled"
                if not missing
                else "Missing " + ", ".join(labels[f].lower() for f in missing),
                fraction=(len(required) - len(missing)) / len(required),
            )

    possible = sum(item["weight"] for item in explanation)
    earned = sum(item["points"] for item in explanation)
    score = round(100 * earned / possible) if possible else 0
    return max(0, min(100, score)), explanation


def profile_for(organization) -> ScoringProfile | None:
    """The organization's profile, read once per Organization instance (Django caches the
    reverse one-to-one, a missing one included)."""
    try:
        return organization.scoring_profile
    except ScoringProfile.DoesNotExist:
        return None


def rescore_lead(lead: Lead, profile: ScoringProfile | None = None) -> Lead:
    """Recompute one lead's score and store it when it changed (one UPDATE, no timeline entry:
    a score is derived, not edited). Without a described ideal customer a lead keeps the
    score it came with (an imported one, say)."""
    if profile is None:
        profile = profile_for(lead.organization)
    if not is_configured(profile):
        return lead
    score, explanation = score_lead(lead, profile)
    if score != lead.score or explanation != lead.score_explanation:
        lead.score, lead.score_explanation = score, explanation
        Lead.objects.filter(pk=lead.pk).update(score=score, score_explanation=explanation)
    return lead


def rescore_leads(leads: Iterable[Lead], profile: ScoringProfile | None) -> int:
    """Recompute a batch of leads (companies selected) and bulk_update the changed ones."""
    changed = []
    for lead in leads:
        score, explanation = score_lead(lead, profile)
        if score != lead.score or explanation != lead.score_explanation:
            lead.score, lead.score_explanation = score, explanation
            changed.append(lead)
    if changed:
        Lead.objects.bulk_update(changed, ["score", "score_explanation"], batch_size=500)
    return len(changed)


RESCORE_CHUNK = 1000


def rescore_company_leads(company: Company) -> int:
    """After a company's fields changed: rescore its leads in bulk. Returns leads changed."""
    profile = profile_for(company.organization)
    if not is_configured(profile):
        return 0
    changed = 0
    leads = Lead.objects.for_org(company.organization_id).filter(company=company).order_by("pk")
    last = 0
    while True:
        chunk = list(leads.filter(pk__gt=last)[:RESCORE_CHUNK])
        if not chunk:
            return changed
        for lead in chunk:
            lead.company = company
        changed += rescore_leads(chunk, profile)
        last = chunk[-1].pk


def rescore_organization_chunk(organization, *, after_id: int = 0) -> tuple[int, int | None]:
    """Rescore up to RESCORE_CHUNK of the organization's leads with ids above `after_id`.
    Returns (leads changed, the last id seen, or None when there are no more)."""
    profile = ScoringProfile.objects.filter(organization=organization).first()
    chunk = list(
        Lead.objects.for_org(organization)
        .filter(pk__gt=after_id)
        .select_related("company")
        .order_by("pk")[:RESCORE_CHUNK]
    )
    if not chunk:
        return 0, None
    return rescore_leads(chunk, profile), chunk[-1].pk
