"""Lead-capture forms: the list, the builder with its embed snippet, and the public endpoint
`POST /f/<public_id>` that any website may post to (CORS, no cookies, honeypot, per-IP
rate limit)."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from django_ratelimit.core import get_usage

from accounts.models import Membership, Role, User
from accounts.tenancy import OrgRequest, org_member_required
from accounts.views.pages import done, page
from config.api import error_body
from leads import capture
from leads.models import CaptureForm, FormSubmission

SUBMISSIONS_SHOWN = 20


class CaptureFormForm(forms.ModelForm):
    """A form's settings; its fields come from the builder table (see `_fields_from_post`)."""

    tags = forms.CharField(
        required=False,
        max_length=500,
        help_text="Comma-separated; every lead from this form gets them.",
    )

    class Meta:
        model = CaptureForm
        fields = ["name", "success_message", "redirect_url", "source", "tags", "owner", "is_active"]
        labels = {
            "redirect_url": "Redirect to",
            "success_message": "Success message",
            "is_active": "Accept submissions",
            "owner": "Owner of new leads",
        }
        help_texts = {
            "redirect_url": "After a plain HTML post, send the visitor to this page instead of "
            "showing the success message.",
            "source": "Stored as the source of the leads this form creates.",
        }

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = User.objects.filter(
            pk__in=Membership.objects.for_org(organization).values("user_id")
        ).order_by("email")
        self.fields["owner"].required = False
        if self.instance.pk and not self.is_bound:
            self.initial["tags"] = ", ".join(self.instance.tags or [])

    def clean_tags(self) -> list[str]:
        names = [" ".join(t.split())[:50] for t in self.cleaned_data["tags"].split(",")]
        return list(dict.fromkeys(n for n in names if n))


def _builder_rows(organization, configured: list[dict[str, Any]], post=None) -> list[dict]:
    """One row per field a form may ask for: included?, label, required."""
    current = {item["name"]: item for item in configured}
    rows = []
    for spec in capture.available_fields(organization):
        if post is not None:
            included = bool(post.get(f"f_{spec.name}")) or spec.name == "email"
            label = post.get(f"l_{spec.name}", "")
            required = bool(post.get(f"r_{spec.name}"))
        else:
            item = current.get(spec.name)
            included = item is not None or (not configured and spec.name in ("email", "name"))
            label = (item or {}).get("label", "")
            required = bool((item or {}).get("required")) or (
                not configured and spec.name == "email"
            )
        rows.append(
            {
                "spec": spec,
                "included": included,
                "label": label,
                "required": required or spec.name == "email",
            }
        )
    if post is None and configured:
        order = {item["name"]: n for n, item in enumerate(configured)}
        rows.sort(key=lambda row: order.get(row["spec"].name, len(order)))
    return rows


def _fields_from_rows(rows: list[dict]) -> list[dict[str, Any]]:
    return [
        {"name": row["spec"].name, "label": row["label"], "required": row["required"]}
        for row in rows
        if row["included"]
    ]


def _forms_page(request: OrgRequest):
    capture_forms = list(CaptureForm.objects.for_org(request.org).select_related("owner"))
    context = {"capture_forms": capture_forms, "can_write": request.membership.can_write}
    return page(request, "leads/form_list.html", context)


@org_member_required
@require_GET
def capture_forms(request: OrgRequest):
    return _forms_page(request)


def _editor(request: OrgRequest, form_obj: CaptureForm | None, *, status: int = 200):
    org = request.org
    post = request.POST if request.method == "POST" else None
    settings_form = CaptureFormForm(post, instance=form_obj, organization=org)
    rows = _builder_rows(org, form_obj.fields if form_obj else [], post)
    fields_error = ""
    if post is not None and settings_form.is_valid():
        try:
            cleaned_fields = capture.clean_field_config(org, _fields_from_rows(rows))
        except ValidationError as exc:
            fields_error = exc.messages[0]
        else:
            saved = settings_form.save(commit=False)
            saved.organization = org
            saved.fields = cleaned_fields
            if saved.pk is None:
                saved.created_by = request.user
            saved.save()
            messages.success(request, f"Form {saved.name} saved.")
            return done(request, "leads:capture_form_detail", org_slug=org.slug, form_id=saved.pk)
    context = {
        "capture_form": form_obj,
        "form": settings_form,
        "rows": rows,
        "fields_error": fields_error,
        "can_write": request.membership.can_write,
    }
    if form_obj is not None:
        context |= _embed_context(request, form_obj)
        context["submissions"] = list(
            FormSubmission.objects.for_org(org)
            .filter(form=form_obj)
            .select_related("lead")[:SUBMISSIONS_SHOWN]
        )
    return page(request, "leads/form_detail.html", context, fragment="editor", status=status)


def _embed_context(request: OrgRequest, form_obj: CaptureForm) -> dict[str, Any]:
    endpoint = settings.SITE_URL + reverse("leads:form_submit", args=[form_obj.public_id])
    script = settings.SITE_URL + static("js/prospector-form.js")
    snippet = render_to_string(
        "leads/form_snippet.html",
        {"capture_form": form_obj, "endpoint": endpoint, "honeypot": capture.HONEYPOT},
    ).strip()
    return {
        "endpoint": endpoint,
        "snippet": snippet,
        "script_tag": f'<script src="{script}" defer></script>',
    }


@org_member_required
def new_capture_form(request: OrgRequest):
    if request.method not in ("GET", "POST"):
        return HttpResponse(status=405)
    if request.method == "POST" and not request.membership.can_write:
        raise PermissionDenied("Viewers cannot create forms.")
    return _editor(request, None)


def _capture_form(request: OrgRequest, form_id: int) -> CaptureForm:
    return get_object_or_404(CaptureForm.objects.for_org(request.org), pk=form_id)


@org_member_required
def capture_form_detail(request: OrgRequest, form_id: int):
    if request.method not in ("GET", "POST"):
        return HttpResponse(status=405)
    form_obj = _capture_form(request, form_id)
    if request.method == "POST" and not request.membership.can_write:
        raise PermissionDenied("Viewers cannot change forms.")
    return _editor(request, form_obj)


@org_member_required(role=Role.MEMBER)
@require_POST
def delete_capture_form(request: OrgRequest, form_id: int):
    form_obj = _capture_form(request, form_id)
    name = form_obj.name
    form_obj.delete()
    messages.success(request, f"Form {name} deleted. Leads it created stay.")
    return done(request, "leads:capture_forms", org_slug=request.org.slug)


# ---------------------------------------------------------------- the public endpoint

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, Accept, X-Requested-With",
    "Access-Control-Max-Age": "86400",
}


def _cors(response: HttpResponse) -> HttpResponse:
    for name, value in CORS_HEADERS.items():
        response[name] = value
    return response


def _wants_json(request) -> bool:
    return (
        request.content_type == "application/json"
        or "application/json" in request.headers.get("Accept", "")
        or request.headers.get("X-Requested-With") == "XMLHttpRequest"
    )


def _public_page(request, capture_form, *, title, message="", errors=None, status=200):
    context = {"capture_form": capture_form, "title": title, "message": message}
    context["errors"] = errors or {}
    return render(request, "leads/form_public.html", context, status=status)


def _posted_data(request) -> dict[str, Any] | None:
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            return None
        return data if isinstance(data, dict) else None
    return {key: request.POST.get(key) for key in request.POST}


def _error(request, capture_form, status: int, code: str, message: str, details=None):
    if _wants_json(request):
        return JsonResponse(error_body(code, message, details or {}), status=status)
    errors = details if code == "validation_error" else None
    title = "Please check the form" if errors else "Not sent"
    return _public_page(
        request, capture_form, title=title, message=message, errors=errors, status=status
    )


def _client_ip(request) -> str | None:
    from django_ratelimit.core import _SIMPLE_KEYS

    return _SIMPLE_KEYS["ip"](request) or None


@csrf_exempt
def form_submit(request, public_id: str):
    """A submission from any website: form-encoded, multipart or JSON. Sets no cookie."""
    capture_form = (
        CaptureForm.objects.select_related("organization", "owner")
        .filter(public_id=public_id, is_active=True)
        .first()
    )
    if capture_form is None:
        raise Http404("No such form.")
    if request.method == "OPTIONS":
        return _cors(HttpResponse(status=204))
    if request.method != "POST":
        response = HttpResponse("Forms are submitted with POST.", status=405)
        response["Allow"] = "POST, OPTIONS"
        return _cors(response)
    usage = get_usage(
        request,
        group="capture-form",
        key="ip",
        rate=lambda group, req: settings.FORM_RATE_LIMIT,
        increment=True,
    )
    if usage and usage["should_limit"]:
        retry_after = max(usage["time_left"], 1)
        response = _error(
            request,
            capture_form,
            429,
            "rate_limited",
            f"Too many submissions. Retry in {retry_after} seconds.",
            {"retry_after": retry_after},
        )
        response["Retry-After"] = str(retry_after)
        return _cors(response)
    data = _posted_data(request)
    if data is None:
        return _cors(_error(request, capture_form, 400, "malformed_request", "Send a JSON object."))
    submission = capture.read_submission(capture_form, data, request.headers.get("Referer", ""))
    if submission.errors:
        return _cors(
            _error(
                request,
                capture_form,
                400,
                "validation_error",
                "Some fields need another look.",
                submission.errors,
            )
        )
    if submission.is_spam:
        # A bot filled the hidden field: it sees a success, nothing is stored.
        return _cors(_success(request, capture_form, follow_redirect=False))
    capture.submit(form=capture_form, submission=submission, ip_address=_client_ip(request))
    return _cors(_success(request, capture_form))


def _success(request, capture_form: CaptureForm, *, follow_redirect: bool = True) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"ok": True, "message": capture_form.success_message})
    if capture_form.redirect_url and follow_redirect:
        return HttpResponseRedirect(capture_form.redirect_url, status=303)
    return _public_page(
        request, capture_form, title="Thank you", message=capture_form.success_message
    )
