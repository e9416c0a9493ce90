"""leads.scoring: the pure score function, and rescoring when leads and companies change."""

from __future__ import annotations

import pytest

from leads import scoring, services
from leads.models import Company, Lead, ScoringProfile
from tests import factories


def _lead(**fields) -> Lead:
    company = fields.pop("company", None)
    lead = Lead(**fields)
    lead.company = company
    return lead


def _profile(**fields) -> ScoringProfile:
    return ScoringProfile(**fields)


def test_an_empty_profile_scores_nothing():
    assert scoring.score_lead(_lead(title="CEO"), _profile()) == (0, [])
    assert scoring.score_lead(_lead(title="CEO"), None) == (0, [])


def test_a_perfect_match_scores_100_and_explains_every_rule():
    company = Company(pk=1, name="Acme", industry="Computer Software", size_range="51-200")
    lead = _lead(
        title="VP of Sales",
        location="Berlin, Germany",
        email="a@acme.example",
        phone="+4930123456",
        company=company,
    )
    profile = _profile(
        industries=["software"],
        company_sizes=["51-200", "201-500"],
        countries=["Germany"],
        title_keywords=["sales"],
        seniorities=["vp", "c_level"],
        required_fields=["email", "company"],
    )
    score, explanation = scoring.score_lead(lead, profile)
    assert score == 100
    assert [item["rule"] for item in explanation] == list(scoring.RULES)
    assert all(item["matched"] for item in explanation)
    assert sum(item["points"] for item in explanation) == 100
    assert explanation[0]["detail"] == "Industry Computer Software is a target (software)"
    assert set(explanation[0]) == {"rule", "points", "weight", "matched", "detail"}


def test_only_described_rules_count_and_weights_scale():
    profile = _profile(title_keywords=["marketing"], seniorities=["director"])
    profile.weights = {"title": 30, "seniority": 10}
    score, explanation = scoring.score_lead(_lead(title="Marketing Manager"), profile)
    # title matched (30 of 40), seniority (manager) did not.
    assert score == 75
    assert [(i["rule"], i["points"], i["matched"]) for i in explanation] == [
        ("title", 30, True),
        ("seniority", 0, False),
    ]
    assert explanation[1]["detail"] == "Manager is not a target seniority"


def test_required_fields_give_partial_credit():
    profile = _profile(required_fields=["email", "phone", "title", "linkedin_url"])
    score, explanation = scoring.score_lead(_lead(email="x@y.example", title="CTO"), profile)
    assert score == 40  # 2 of 4 filled: half of 5 points, rounded to even (2)
    assert explanation[0]["matched"] is False
    assert explanation[0]["detail"] == "Missing phone, linkedin url"


def test_countries_match_by_name_by_code_and_by_phone():
    profile = _profile(countries=["FR", "United Kingdom"])
    assert scoring.score_lead(_lead(location="Lyon, FR"), profile)[0] == 100
    assert scoring.score_lead(_lead(phone="+33142685300"), profile)[0] == 100
    assert scoring.score_lead(_lead(location="London, United Kingdom"), profile)[0] == 100
    # A code inside a word is no country ("FRankfurt"), nor is a name's substring.
    assert scoring.score_lead(_lead(location="Frankfurt"), profile)[0] == 0
    assert scoring.score_lead(_lead(location="Kingdom Hall"), profile)[0] == 0


@pytest.mark.parametrize(
    "title,level",
    [
        ("CEO", "c_level"),
        ("Co-founder & CTO", "c_level"),
        ("Chief Revenue Officer", "c_level"),
        ("SVP Engineering", "vp"),
        ("Vice President, Sales", "vp"),
        ("Head of Growth", "director"),
        ("Director of IT", "director"),
        ("Account Manager", "manager"),
        ("Software Engineer", "individual"),
        ("", ""),
    ],
)
def test_seniority_comes_from_the_title(title, level):
    assert scoring.seniority_of(title) == level


def test_bad_weights_fall_back_and_are_clamped():
    profile = _profile(title_keywords=["x"], weights={"title": "lots", "industry": 500})
    assert scoring.weights_of(profile)["title"] == scoring.DEFAULT_WEIGHTS["title"]
    assert scoring.weights_of(profile)["industry"] == 100


# ---------------------------------------------------------------- recomputed on change


@pytest.fixture
def profile(org):
    return ScoringProfile.objects.create(
        organization=org, title_keywords=["founder"], industries=["fintech"]
    )


def test_creating_and_updating_a_lead_scores_it(org, owner, profile):
    org.refresh_from_db()
    lead = factories.make_lead(org, title="Founder")
    lead.refresh_from_db()
    assert lead.score == round(100 * 20 / 45)
    assert [i["rule"] for i in lead.score_explanation] == ["industry", "title"]
    services.update_lead(lead=lead, actor=owner, changes={"title": "Intern"})
    lead.refresh_from_db()
    assert lead.score == 0


def test_without_a_profile_a_lead_keeps_its_given_score(org):
    lead = factories.make_lead(org, score=42)
    lead.refresh_from_db()
    assert lead.score == 42


def test_a_company_change_rescores_its_leads(org, profile):
    company = factories.make_company(org, industry="Retail")
    leads = [factories.make_lead(org, title="Founder", company=company) for _ in range(3)]
    company.industry = "Fintech"
    company.save()
    assert scoring.rescore_company_leads(company) == 3
    assert {lead.score for lead in Lead.objects.filter(pk__in=[x.pk for x in leads])} == {100}


def test_the_organization_is_rescored_in_chunks(org, profile, monkeypatch):
    monkeypatch.setattr(scoring, "RESCORE_CHUNK", 2)
    leads = [factories.make_lead(org, title="Founder") for _ in range(5)]
    Lead.objects.filter(pk__in=[x.pk for x in leads]).update(score=0, score_explanation=[])
    changed, last = scoring.rescore_organization_chunk(org)
    assert (changed, last) == (2, leads[1].pk)
    changed, last = scoring.rescore_organization_chunk(org, after_id=last)
    changed, last = scoring.rescore_organization_chunk(org, after_id=last)
    assert changed == 1
    assert scoring.rescore_organization_chunk(org, after_id=last) == (0, None)
    assert set(Lead.objects.for_org(org).values_list("score", flat=True)) == {44}


# ---------------------------------------------------------------- the settings page


def scoring_url(org):
    return f"/o/{org.slug}/settings/scoring/"


def _post_data(**extra):
    data = {
        "industries": "Fintech, banking\nInsurance",
        "company_sizes": ["51-200"],
        "countries": "DE, France",
        "title_keywords": "founder, cto",
        "seniorities": ["c_level"],
        "required_fields": ["email"],
    }
    data |= {f"weight_{rule}": 10 for rule in scoring.RULES}
    return data | extra


def test_settings_page_shows_the_form(owner_client, org):
    response = owner_client.get(scoring_url(org))
    assert response.status_code == 200
    body = response.content.decode()
    assert "<title>Lead scoring · Acme Corp · Prospector</title>" in body
    assert "Save and rescore" in body
    assert 'aria-current="page">Scoring</a>' in body


def test_admin_saves_the_profile_and_every_lead_is_rescored(
    owner_client, org, django_capture_on_commit_callbacks
):
    lead = factories.make_lead(org, title="Founder")
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(scoring_url(org), _post_data())
    assert response.status_code == 302
    profile = ScoringProfile.objects.get(organization=org)
    assert profile.industries == ["Fintech", "banking", "Insurance"]
    assert profile.countries == ["DE", "France"]
    assert profile.weights["title"] == 10
    lead.refresh_from_db()
    assert lead.score > 0
    assert any(item["rule"] == "title" and item["matched"] for item in lead.score_explanation)


def test_bad_weights_are_shown_next_to_the_field(owner_client, org):
    response = owner_client.post(scoring_url(org), _post_data(weight_title=500))
    assert response.status_code == 200
    assert "less than or equal to 100" in response.content.decode()
    assert not ScoringProfile.objects.filter(organization=org).exists()


def test_members_and_viewers_see_but_cannot_save(member_client, viewer_client, org):
    body = member_client.get(scoring_url(org)).content.decode()
    assert "Only owners and admins can change scoring." in body
    assert member_client.post(scoring_url(org), _post_data()).status_code == 403
    assert viewer_client.post(scoring_url(org), _post_data()).status_code == 403
    assert not ScoringProfile.objects.filter(organization=org).exists()


def test_score_fragment_explains_a_lead(owner_client, org, profile):
    lead = factories.make_lead(org, title="Founder")
    response = owner_client.get(f"/o/{org.slug}/leads/{lead.pk}/score/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body
    assert "Title mentions founder" in body
    assert "Industry unknown" in body


def test_outsider_gets_404(outsider_client, org):
    assert outsider_client.get(scoring_url(org)).status_code == 404


def test_another_organizations_lead_score_is_404(owner_client, org, other_org):
    foreign = factories.make_lead(other_org)
    assert owner_client.get(f"/o/{org.slug}/leads/{foreign.pk}/score/").status_code == 404


def test_wrong_method_is_405(owner_client, org):
    assert owner_client.delete(scoring_url(org)).status_code == 405
