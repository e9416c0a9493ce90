"""Landing, organization creation and the read-mostly settings pages (the dashboard is
the leads app's)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import services, usage
from accounts.forms import OrganizationForm, OrganizationSettingsForm
from accounts.models import Event, Membership, Role
from accounts.tenancy import OrgRequest, org_member_required
from accounts.views.pages import done, page, sort_order

EVENTS_PER_PAGE = 50
EVENT_SORTS = {"time": ["created_at", "id"]}


@login_required
@require_GET
def home(request):
    """Land in the organization the user last worked in, or offer to create one."""
    memberships = list(Membership.objects.filter(user=request.user).select_related("organization"))
    if not memberships:
        return render(request, "accounts/no_organization.html", {"form": OrganizationForm()})
    last = [m for m in memberships if m.organization_id == request.user.last_organization_id]
    return redirect("dashboard", org_slug=(last or memberships)[0].organization.slug)


@login_required
@require_http_methods(["GET", "POST"])
def create_org(request):
    form = OrganizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        org = services.create_organization(name=form.cleaned_data["name"], owner=request.user)
        messages.success(request, f"{org.name} is ready. You are its owner.")
        return done(request, "dashboard", org_slug=org.slug)
    return page(request, "accounts/org_create.html", {"form": form}, fragment="org-form")


@org_member_required
@require_GET
def settings_index(request: OrgRequest):
    return redirect("org_settings", org_slug=request.org.slug)


@org_member_required
@require_http_methods(["GET", "POST"])
def org_settings(request: OrgRequest):
    """General settings: everyone may read them, owners and admins rename."""
    can_manage = request.membership.can_manage
    if request.method == "POST" and not can_manage:
        raise PermissionDenied("Only owners and admins can rename the organization.")
    org = request.org
    initial = {
        "name": org.name,
        "default_country": org.default_country,
        "postal_address": org.postal_address,
    }
    form = OrganizationSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.rename_organization(
            organization=org, name=form.cleaned_data["name"], actor=request.user
        )
        services.set_default_country(
            organization=org, country=form.cleaned_data["default_country"], actor=request.user
        )
        services.set_postal_address(
            organization=org, address=form.cleaned_data["postal_address"], actor=request.user
        )
        messages.success(request, "Settings saved.")
        if not request.htmx:
            return redirect("org_settings", org_slug=org.slug)
        form = OrganizationSettingsForm(
            initial={
                "name": org.name,
                "default_country": org.default_country,
                "postal_address": org.postal_address,
            }
        )
    context = {"form": form, "can_manage": can_manage}
    return page(request, "accounts/settings_general.html", context, fragment="org-form")


@org_member_required(role=Role.ADMIN)
@require_GET
def audit_log(request: OrgRequest):
    """The organization's events, filtered by type and by who, newest first (or oldest)."""
    org_events = Event.objects.for_org(request.org)
    types = list(org_events.order_by("type").values_list("type", flat=True).distinct())
    actors = list(
        org_events.order_by("actor_label").values_list("actor_label", flat=True).distinct()
    )
    filters = {"type": request.GET.get("type", ""), "actor_label": request.GET.get("actor", "")}
    org_events = org_events.filter(**{field: value for field, value in filters.items() if value})
    sort, order = sort_order(request, EVENT_SORTS, "-time")
    events_page = Paginator(org_events.order_by(*order), EVENTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {
        "events_page": events_page,
        "events": list(events_page.object_list),
        "types": types,
        "actors": actors,
        "selected": filters["type"],
        "selected_actor": filters["actor_label"],
        "sort": sort,
    }
    return page(request, "accounts/audit_log.html", context, fragment="events")


@org_member_required
@require_GET
def usage_page(request: OrgRequest):
    rows = usage.summary(request.org)
    for row in rows:
        limit = row["limit"]
        row["percent"] = round(100 * row["used"] / limit, 1) if limit else None
        row["over"] = limit is not None and row["used"] >= limit
    context = {"rows": rows, "plan": usage.plan_for(request.org), "month": usage.month_start()}
    return page(request, "accounts/usage.html", context, fragment="usage")


@org_member_required
@require_POST
def leave_org(request: OrgRequest):
    """Anyone may leave, except the last owner."""
    try:
        services.remove_member(membership=request.membership, actor=request.user)
    except services.LastOwnerError as exc:
        messages.error(request, str(exc))
        return done(request, "members", org_slug=request.org.slug)
    messages.success(request, f"You left {request.org.name}.")
    return done(request, "home")
