"""The public capture-form endpoint `POST /f/<public_id>`: any website, form or JSON bodies,
CORS, honeypot, rate limit, and what a submission does to leads."""

from __future__ import annotations

import json

import pytest

from leads import capture
from leads.models import (
    Activity,
    ActivityKind,
    CaptureForm,
    CustomFieldDefinition,
    FormSubmission,
    Lead,
    Suppression,
)
from tests import factories


@pytest.fixture
def capture_form(org, member):
    CustomFieldDefinition.objects.create(organization=org, key="budget", label="Budget")
    return CaptureForm.objects.create(
        organization=org,
        name="Demo request",
        fields=capture.clean_field_config(
            org,
            [
                {"name": "email", "label": "Work email", "required": True},
                {"name": "name", "required": True},
                {"name": "company"},
                {"name": "title"},
                {"name": "message"},
                {"name": "custom.budget"},
            ],
        ),
        source="website",
        tags=["inbound"],
        owner=member,
        success_message="Thanks, talk soon.",
    )


def url(form, slash=False):
    return f"/f/{form.public_id}{'/' if slash else ''}"


def post_json(client, form, data, **extra):
    return client.post(url(form), json.dumps(data), content_type="application/json", **extra)


def test_json_submission_creates_a_lead_with_everything(client, org, member, capture_form):
    response = post_json(
        client,
        capture_form,
        {
            "email": "Ada@Example.ORG",
            "name": "Ada Lovelace",
            "company": "Analytical Engines",
            "title": "CTO",
            "message": "Call me",
            "custom.budget": "5000",
            "utm_source": "google",
            "utm_campaign": "spring",
            "unknown": "dropped",
        },
        HTTP_REFERER="https://www.example.org/pricing",
        HTTP_ORIGIN="https://www.example.org",
    )
    assert response.status_code == 200
    assert response.json() == {"ok": True, "message": "Thanks, talk soon."}
    assert response["Access-Control-Allow-Origin"] == "*"
    assert not response.cookies
    lead = Lead.objects.for_org(org).get(email="ada@example.org")
    assert (lead.first_name, lead.last_name, lead.title) == ("Ada", "Lovelace", "CTO")
    assert lead.company.name == "Analytical Engines"
    assert lead.source == "website"
    assert lead.owner == member
    assert lead.custom_fields == {"budget": "5000"}
    assert list(lead.tags.values_list("name", flat=True)) == ["inbound"]
    activity = Activity.objects.get(lead=lead, kind=ActivityKind.FORM_SUBMISSION)
    assert activity.body == "Call me"
    assert activity.data["utm"] == {"utm_source": "google", "utm_campaign": "spring"}
    assert activity.data["referrer"] == "https://www.example.org/pricing"
    submission = FormSubmission.objects.get(form=capture_form)
    assert submission.lead == lead
    assert "unknown" not in submission.data
    assert submission.ip_address == "127.0.0.1"
    capture_form.refresh_from_db()
    assert capture_form.submission_count == 1


def test_form_encoded_post_redirects_or_thanks(client, org, capture_form):
    response = client.post(url(capture_form, slash=True), {"email": "a@b.example", "name": "A B"})
    assert response.status_code == 200
    assert b"Thanks, talk soon." in response.content
    assert response["Access-Control-Allow-Origin"] == "*"
    capture_form.redirect_url = "https://www.example.org/thanks"
    capture_form.save()
    response = client.post(url(capture_form), {"email": "c@d.example", "name": "C D"})
    assert response.status_code == 303
    assert response["Location"] == "https://www.example.org/thanks"
    assert Lead.objects.for_org(org).count() == 2


def test_multipart_is_accepted(client, org, capture_form):
    response = client.post(
        url(capture_form), {"email": "m@p.example", "name": "M P"}, HTTP_ACCEPT="application/json"
    )  # the test client sends multipart by default
    assert response.json()["ok"] is True
    assert Lead.objects.for_org(org).filter(email="m@p.example").exists()


def test_an_existing_lead_is_completed_never_overwritten(client, org, owner, capture_form):
    lead = factories.make_lead(org, email="ada@example.org", first_name="Ada", last_name="")
    lead.custom_fields = {"budget": "100"}
    lead.save()
    post_json(
        client,
        capture_form,
        {
            "email": "ADA@example.org",
            "name": "Augusta King",
            "title": "Countess",
            "custom.budget": "9",
        },
    )
    lead.refresh_from_db()
    assert lead.first_name == "Ada"  # kept
    assert lead.last_name == ""  # "name" only fills when both are empty
    assert lead.title == "Countess"  # was empty
    assert lead.custom_fields == {"budget": "100"}
    assert Lead.objects.for_org(org).count() == 1
    assert "inbound" in lead.tags.values_list("name", flat=True)
    assert lead.activities.filter(kind=ActivityKind.FORM_SUBMISSION).count() == 1


def test_validation_errors_are_400_json_for_json_callers(client, org, capture_form):
    response = post_json(client, capture_form, {"email": "not-an-email"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert set(error["details"]) == {"email", "name"}
    assert response["Access-Control-Allow-Origin"] == "*"
    assert not Lead.objects.for_org(org).exists()


def test_validation_errors_are_a_small_page_for_plain_posts(client, org, capture_form):
    response = client.post(url(capture_form), {"email": "", "name": "X"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Please check the form" in body
    assert "Work email is required." in body
    assert not response.cookies


def test_malformed_json_is_400(client, capture_form):
    response = client.post(url(capture_form), "{nope", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_request"
    response = client.post(url(capture_form), "[1, 2]", content_type="application/json")
    assert response.status_code == 400


def test_the_honeypot_silently_succeeds_and_stores_nothing(client, org, capture_form):
    capture_form.redirect_url = "https://www.example.org/thanks"
    capture_form.save()
    response = client.post(
        url(capture_form), {"email": "bot@spam.example", "name": "Bot", "website_url": "http://x"}
    )
    assert response.status_code == 200
    response = post_json(client, capture_form, {"email": "b@s.example", "website_url": "x"})
    assert response.json()["ok"] is True
    assert not Lead.objects.for_org(org).exists()
    assert not FormSubmission.objects.exists()
    capture_form.refresh_from_db()
    assert capture_form.submission_count == 0


def test_a_suppressed_address_is_accepted_and_dropped(client, org, capture_form):
    Suppression.objects.create(organization=org, email="gone@example.org", reason="erased")
    response = post_json(client, capture_form, {"email": "Gone@example.org", "name": "G One"})
    assert response.json()["ok"] is True
    assert not Lead.objects.for_org(org).exists()
    assert not FormSubmission.objects.exists()


def test_preflight_answers_cors(client, capture_form):
    response = client.options(
        url(capture_form),
        HTTP_ORIGIN="https://www.example.org",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type",
    )
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert "Content-Type" in response["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in response


def test_get_is_405(client, capture_form):
    response = client.get(url(capture_form))
    assert response.status_code == 405
    assert response["Access-Control-Allow-Origin"] == "*"


def test_unknown_and_inactive_forms_are_404(client, capture_form):
    assert client.post("/f/nope", {"email": "a@b.example"}).status_code == 404
    capture_form.is_active = False
    capture_form.save()
    assert post_json(client, capture_form, {"email": "a@b.example", "name": "A"}).status_code == 404


def test_rate_limit_per_ip(client, org, capture_form, settings):
    settings.FORM_RATE_LIMIT = "2/m"
    for n in range(2):
        response = post_json(client, capture_form, {"email": f"r{n}@x.example", "name": "R"})
        assert response.status_code == 200
    response = post_json(client, capture_form, {"email": "r9@x.example", "name": "R"})
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"
    assert int(response["Retry-After"]) >= 1
    assert response["Access-Control-Allow-Origin"] == "*"
    # Another address is not limited.
    response = post_json(
        client, capture_form, {"email": "r8@x.example", "name": "R"}, REMOTE_ADDR="10.1.1.1"
    )
    assert response.status_code == 200
    assert Lead.objects.for_org(org).count() == 3


def test_nested_custom_fields_are_read_too(client, org, capture_form):
    post_json(
        client, capture_form, {"email": "n@x.example", "name": "N", "custom_fields": {"budget": 7}}
    )
    assert Lead.objects.for_org(org).get(email="n@x.example").custom_fields == {"budget": "7"}


def test_field_config_needs_email_and_known_fields(org):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="email"):
        capture.clean_field_config(org, [{"name": "name"}])
    with pytest.raises(ValidationError, match="Unknown"):
        capture.clean_field_config(org, [{"name": "email"}, {"name": "password"}])
    cleaned = capture.clean_field_config(org, [{"name": "email", "required": False}])
    assert cleaned == [{"name": "email", "label": "Email", "required": True, "type": "email"}]
