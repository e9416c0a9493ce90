"""Scoring settings (`leads:scoring`): the ideal customer and the weight of each rule; and a
lead's score explanation as a fragment (`leads:lead_score`) that other pages include."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_GET

from accounts.tenancy import OrgRequest, org_member_required
from accounts.views.pages import page
from config.tasks import enqueue_on_commit
from leads import scoring
from leads.models import CompanySize, Lead, ScoringProfile


def _split(text: str) -> list[str]:
    parts = [" ".join(p.split()) for p in text.replace("\n", ",").split(",")]
    return list(dict.fromkeys(p[:100] for p in parts if p))[:100]


class ScoringForm(forms.Form):
    industries = forms.CharField(
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Comma-separated, matched as words in the company's industry: "
        "“software” matches “Computer Software”.",
    )
    company_sizes = forms.MultipleChoiceField(
        required=False, choices=CompanySize.choices, widget=forms.CheckboxSelectMultiple
    )
    countries = forms.CharField(
        required=False,
        max_length=4000,
        help_text="Names or two-letter codes, comma-separated; matched in the lead's or "
        "company's location, codes also by phone number.",
    )
    title_keywords = forms.CharField(
        required=False,
        max_length=4000,
        label="Title keywords",
        help_text="Comma-separated words to look for in job titles: sales, marketing, growth.",
    )
    seniorities = forms.MultipleChoiceField(
        required=False, choices=scoring.SENIORITIES, widget=forms.CheckboxSelectMultiple
    )
    required_fields = forms.MultipleChoiceField(
        required=False,
        choices=scoring.REQUIRED_FIELD_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        label="Fields a good lead has",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for rule in scoring.RULES:
            self.fields[f"weight_{rule}"] = forms.IntegerField(
                min_value=0,
                max_value=100,
                label=scoring.RULE_LABELS[rule],
                widget=forms.NumberInput(attrs={"class": "input-narrow"}),
            )

    @classmethod
    def for_profile(cls, profile: ScoringProfile | None) -> ScoringForm:
        initial = {f"weight_{rule}": w for rule, w in scoring.DEFAULT_WEIGHTS.items()}
        if profile is not None:
            initial |= {
                "industries": ", ".join(profile.industries),
                "company_sizes": profile.company_sizes,
                "countries": ", ".join(profile.countries),
                "title_keywords": ", ".join(profile.title_keywords),
                "seniorities": profile.seniorities,
                "required_fields": profile.required_fields,
            }
            initial |= {f"weight_{rule}": w for rule, w in scoring.weights_of(profile).items()}
        return cls(initial=initial)

    def profile_values(self) -> dict:
        data = self.cleaned_data
        return {
            "industries": _split(data["industries"]),
            "company_sizes": data["company_sizes"],
            "countries": _split(data["countries"]),
            "title_keywords": _split(data["title_keywords"]),
            "seniorities": data["seniorities"],
            "required_fields": data["required_fields"],
            "weights": {rule: data[f"weight_{rule}"] for rule in scoring.RULES},
        }

    def weight_fields(self):
        return [self[f"weight_{rule}"] for rule in scoring.RULES]


def _scoring_page(request: OrgRequest, form: ScoringForm | None = None, status: int = 200):
    profile = ScoringProfile.objects.filter(organization=request.org).first()
    context = {
        "form": form or ScoringForm.for_profile(profile),
        "profile": profile,
        "can_manage": request.membership.can_manage,
        "top_leads": list(
            Lead.objects.for_org(request.org)
            .active()
            .select_related("company")
            .order_by("-score", "-created_at")[:5]
        )
        if scoring.is_configured(profile)
        else [],
    }
    return page(request, "leads/scoring.html", context, fragment="scoring", status=status)


@org_member_required
def scoring_settings(request: OrgRequest):
    """GET shows the profile to everyone; POST (admins) saves it and rescores on the worker."""
    if request.method == "GET":
        return _scoring_page(request)
    if request.method != "POST":
        return HttpResponse(status=405)
    if not request.membership.can_manage:
        raise PermissionDenied("Only owners and admins can change scoring.")
    form = ScoringForm(request.POST)
    if not form.is_valid():
        return _scoring_page(request, form)
    ScoringProfile.objects.update_or_create(
        organization=request.org, defaults=form.profile_values()
    )
    from leads.tasks import rescore_organization

    enqueue_on_commit(rescore_organization, request.org.pk)
    messages.success(request, "Scoring saved. Every lead is being rescored in the background.")
    return redirect("leads:scoring", org_slug=request.org.slug)


@org_member_required
@require_GET
def lead_score(request: OrgRequest, lead_id: int):
    """The `_score.html` fragment: a lead's score with the rules that made it."""
    lead = get_object_or_404(Lead.objects.for_org(request.org), pk=lead_id)
    return page(request, "leads/_score.html", {"lead": lead, "open": True})
