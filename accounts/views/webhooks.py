"""Outbound webhook endpoints and their delivery log (settings/webhooks): owners and admins.

Delivery itself lives in accounts.webhooks; these views only call its functions.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.forms import WebhookEndpointForm
from accounts.models import Role, WebhookDelivery, WebhookEndpoint
from accounts.tenancy import OrgRequest, org_member_required
from accounts.views.pages import done, page

DELIVERIES_SHOWN = 50
FRAGMENTS = {"deliveries": "deliveries", "endpoint": "endpoint"}


def _webhooks_page(request: OrgRequest, form: WebhookEndpointForm | None = None):
    endpoints = list(WebhookEndpoint.objects.for_org(request.org).order_by("-created_at"))
    context = {
        "endpoints": endpoints,
        "disabled": [e for e in endpoints if not e.is_active],
        "form": form or WebhookEndpointForm(),
    }
    return page(request, "accounts/webhooks.html", context, fragment="webhooks")


def _endpoint(request: OrgRequest, endpoint_id: int) -> WebhookEndpoint:
    return get_object_or_404(
        WebhookEndpoint.objects.for_org(request.org).select_related("organization"),
        pk=endpoint_id,
    )


def _endpoint_page(request: OrgRequest, endpoint: WebhookEndpoint):
    deliveries = list(
        WebhookDelivery.objects.for_org(request.org)
        .filter(endpoint=endpoint)
        .select_related("event")
        .order_by("-created_at", "-id")[:DELIVERIES_SHOWN]
    )
    context = {
        "endpoint": endpoint,
        "deliveries": deliveries,
        "shown": DELIVERIES_SHOWN,
        "has_pending": any(d.status == WebhookDelivery.Status.PENDING for d in deliveries),
        "now": timezone.now(),
    }
    # The delivery log polls itself; everything else on the page swaps the whole endpoint.
    fragment = FRAGMENTS.get(request.htmx.target if request.htmx else None, "endpoint")
    return page(request, "accounts/webhook_detail.html", context, fragment=fragment)


def _after_change(request: OrgRequest, endpoint: WebhookEndpoint):
    if request.htmx:
        return _endpoint_page(request, endpoint)
    return redirect("webhook_detail", org_slug=request.org.slug, endpoint_id=endpoint.pk)


@org_member_required(role=Role.ADMIN)
@require_GET
def webhooks(request: OrgRequest):
    return _webhooks_page(request)


@org_member_required(role=Role.ADMIN)
@require_POST
def create_webhook(request: OrgRequest):
    from accounts.webhooks import create_endpoint

    form = WebhookEndpointForm(request.POST)
    if not form.is_valid():
        return _webhooks_page(request, form=form)
    endpoint = create_endpoint(
        organization=request.org,
        url=form.cleaned_data["url"],
        event_types=form.cleaned_data["event_types"],
        description=form.cleaned_data["description"],
        actor=request.user,
    )
    messages.success(request, "Endpoint added. Use its signing secret to verify deliveries.")
    return done(request, "webhook_detail", org_slug=request.org.slug, endpoint_id=endpoint.pk)


@org_member_required(role=Role.ADMIN)
@require_GET
def webhook_detail(request: OrgRequest, endpoint_id: int):
    return _endpoint_page(request, _endpoint(request, endpoint_id))


@org_member_required(role=Role.ADMIN)
@require_POST
def delete_webhook(request: OrgRequest, endpoint_id: int):
    from accounts.webhooks import delete_endpoint

    endpoint = _endpoint(request, endpoint_id)
    delete_endpoint(endpoint=endpoint, actor=request.user)
    messages.success(request, f"Endpoint {endpoint.url} was deleted.")
    return done(request, "webhooks", org_slug=request.org.slug)


@org_member_required(role=Role.ADMIN)
@require_POST
def test_webhook(request: OrgRequest, endpoint_id: int):
    from accounts.webhooks import send_test

    endpoint = _endpoint(request, endpoint_id)
    send_test(endpoint=endpoint, actor=request.user)
    messages.success(request, "Test event queued. Its delivery appears in the log below.")
    return _after_change(request, endpoint)


@org_member_required(role=Role.ADMIN)
@require_POST
def enable_webhook(request: OrgRequest, endpoint_id: int):
    from accounts.webhooks import enable_endpoint

    endpoint = _endpoint(request, endpoint_id)
    enable_endpoint(endpoint=endpoint, actor=request.user)
    endpoint.refresh_from_db()
    messages.success(request, "Endpoint re-enabled. New events will be delivered to it again.")
    return _after_change(request, endpoint)
