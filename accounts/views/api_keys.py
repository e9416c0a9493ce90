"""The organization's API keys (settings/api-keys): owners and admins only."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.db.models import Case, IntegerField, Value, When
from django.db.models.functions import Lower
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts import services
from accounts.forms import ApiKeyForm
from accounts.models import Access, ApiKey, Role, Scope
from accounts.tenancy import OrgRequest, org_member_required
from accounts.views.pages import page, sort_order

# A new key is shown once: kept in the session only until the page after the redirect.
NEW_KEY_SESSION = "accounts.new_api_key"
# Keys that stop working within this long are flagged in the list.
EXPIRES_SOON = timedelta(days=7)
SORTS = {
    "name": [Lower("name"), "pk"],
    "created": ["created_at", "pk"],
    "last_used": ["last_used_at", "pk"],
    "expires": ["expires_at", "pk"],
}
# Revoked keys sink below the ones still in use, whatever the sort.
_REVOKED_LAST = Case(
    When(revoked_at__isnull=True, then=Value(0)), default=Value(1), output_field=IntegerField()
)


def _api_keys_page(request: OrgRequest, *, form: ApiKeyForm | None = None, new_key=None):
    sort, order = sort_order(request, SORTS, "-created")
    keys = list(
        ApiKey.objects.for_org(request.org).select_related("user").order_by(_REVOKED_LAST, *order)
    )
    context = {
        "keys": keys,
        "sort": sort,
        "expires_soon_before": timezone.now() + EXPIRES_SOON,
        "form": form or ApiKeyForm(),
        "new_key": new_key,
        "scope_labels": dict(Scope.choices),
        "access_labels": dict(Access.choices),
    }
    return page(request, "accounts/api_keys.html", context, fragment="api-keys")


@org_member_required(role=Role.ADMIN)
@require_GET
def api_keys(request: OrgRequest):
    new_key = request.session.pop(NEW_KEY_SESSION, None)
    if new_key and new_key.get("org") != request.org.pk:
        new_key = None
    return _api_keys_page(request, new_key=new_key)


@org_member_required(role=Role.ADMIN)
@require_POST
def create_api_key(request: OrgRequest):
    form = ApiKeyForm(request.POST)
    if not form.is_valid():
        return _api_keys_page(request, form=form)
    key, raw = services.create_api_key(
        organization=request.org,
        user=request.user,
        name=form.cleaned_data["name"],
        scopes=form.cleaned_data["scopes"],
        expires_at=form.expires_datetime,
    )
    new_key = {"org": request.org.pk, "id": key.pk, "name": key.name, "raw": raw}
    messages.success(request, f"API key “{key.name}” created. Copy it now: it is shown once.")
    if request.htmx:
        return _api_keys_page(request, new_key=new_key)
    request.session[NEW_KEY_SESSION] = new_key
    return redirect("api_keys", org_slug=request.org.slug)


@org_member_required(role=Role.ADMIN)
@require_POST
def revoke_api_key(request: OrgRequest, key_id: int):
    key = get_object_or_404(
        ApiKey.objects.for_org(request.org).select_related("organization"), pk=key_id
    )
    services.revoke_api_key(key=key, actor=request.user)
    messages.success(request, f"API key “{key.name}” ({key.prefix}…) was revoked.")
    if request.htmx:
        return _api_keys_page(request)
    return redirect("api_keys", org_slug=request.org.slug)
