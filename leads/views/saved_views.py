"""Saved views: a person's named filter sets, listed in the sidebar and opened on the list or
the board. They are personal preferences, not organization data, so viewers keep them too;
each person sees and changes only their own (another person's view is a 404)."""

from __future__ import annotations

from django.contrib import messages
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Membership
from accounts.tenancy import OrgRequest, org_member_required
from accounts.views.pages import done, page
from leads.forms import RenameViewForm, SavedViewForm
from leads.models import SavedView, Status


def _own_views(request: OrgRequest):
    return SavedView.objects.for_org(request.org).filter(user=request.user)


def view_url(org_slug: str, view: SavedView, where: str = "list") -> str:
    name = "leads:board" if where == "board" else "leads:lead_list"
    url = reverse(name, args=[org_slug])
    return f"{url}?{view.query}" if view.query else url


def describe_filters(query: str, people: dict[str, str]) -> str:
    """A saved query as a person reads it, for example `Tag: vip · Score 50 to 100`."""
    params = QueryDict(query)
    parts = []
    if params.get("q"):
        parts.append(f"Search “{params['q']}”")
    statuses = [Status(value).label for value in params.getlist("status") if value in Status.values]
    if statuses:
        parts.append("Status: " + ", ".join(statuses))
    owner = params.get("owner")
    if owner:
        parts.append("Unassigned" if owner == "null" else f"Owner: {people.get(owner, 'someone')}")
    for key, label in (("tag", "Tag"), ("source", "Source")):
        if params.get(key):
            parts.append(f"{label}: {params[key]}")
    low, high = params.get("score_min"), params.get("score_max")
    if low or high:
        parts.append(f"Score {low or 0}–{high or 100}")
    for key, label in (("created_after", "Created after"), ("updated_after", "Updated after")):
        if params.get(key):
            parts.append(f"{label} {params[key]}")
    if params.get("include_archived"):
        parts.append("archived included")
    if params.get("sort"):
        sort = params["sort"]
        parts.append(
            f"sorted by {sort.lstrip('-')}{' (descending)' if sort.startswith('-') else ''}"
        )
    return " · ".join(parts) or "Every lead"


def _views_page(request: OrgRequest, *, create_form=None, rename_forms=None, status=200):
    views = list(_own_views(request).order_by("name"))
    people = {
        str(m.user_id): m.user.display_name
        for m in Membership.objects.for_org(request.org).select_related("user")
    }
    rename_forms = rename_forms or {}
    for view in views:
        view.description = describe_filters(view.query, people)
        view.list_url = view_url(request.org.slug, view)
        view.board_url = view_url(request.org.slug, view, "board")
        view.rename_form = rename_forms.get(view.pk) or RenameViewForm(
            organization=request.org,
            user=request.user,
            instance=view,
            initial={"name": view.name},
            prefix=f"v{view.pk}",
        )
    context = {"views": views, "create_form": create_form}
    return page(request, "leads/saved_views.html", context, fragment="saved-views", status=status)


@org_member_required
@require_GET
def saved_views(request: OrgRequest):
    return _views_page(request)


@org_member_required
@require_POST
def create_saved_view(request: OrgRequest):
    """Save the filters of the list or board the form was on, then go back there."""
    form = SavedViewForm(request.POST, organization=request.org, user=request.user)
    if not form.is_valid():
        # On this page, with what was typed and why it was refused.
        return _views_page(request, create_form=form)
    view = SavedView.objects.create(
        organization=request.org,
        user=request.user,
        name=form.cleaned_data["name"],
        query=form.cleaned_data["query"],
    )
    messages.success(request, f"View “{view.name}” saved. It is in the sidebar under Leads.")
    return redirect(view_url(request.org.slug, view, form.cleaned_data.get("page") or "list"))


@org_member_required
@require_POST
def rename_saved_view(request: OrgRequest, view_id: int):
    view = get_object_or_404(_own_views(request), pk=view_id)
    form = RenameViewForm(
        request.POST,
        organization=request.org,
        user=request.user,
        instance=view,
        prefix=f"v{view.pk}",
    )
    if not form.is_valid():
        return _views_page(request, rename_forms={view.pk: form})
    old = view.name
    view.name = form.cleaned_data["name"]
    view.save(update_fields=["name"])
    messages.success(request, f"View “{old}” renamed to “{view.name}”.")
    # A full page: the sidebar lists the views too.
    return done(request, "leads:saved_views", org_slug=request.org.slug)


@org_member_required
@require_POST
def delete_saved_view(request: OrgRequest, view_id: int):
    view = get_object_or_404(_own_views(request), pk=view_id)
    view.delete()
    messages.success(request, f"View “{view.name}” deleted.")
    # A full page: the sidebar lists the views too.
    return done(request, "leads:saved_views", org_slug=request.org.slug)
