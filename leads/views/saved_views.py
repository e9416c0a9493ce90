"""Saved views: a person's named filter sets, listed in the sidebar and opened on the list or
the board. They are personal preferences, not organization data, so viewers keep them too;
each person sees and changes only their own (another person's view is a 404)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.tenancy import OrgRequest, org_member_required
from accounts.views._common import done, page
from leads.forms import RenameViewForm, SavedViewForm
from leads.models import SavedView


def _own_views(request: OrgRequest):
    return SavedView.objects.for_org(request.org).filter(user=request.user)


def view_url(org_slug: str, view: SavedView, where: str = "list") -> str:
    name = "leads:board" if where == "board" else "leads:lead_list"
    url = reverse(name, args=[org_slug])
    return f"{url}?{view.query}" if view.query else url


def _views_page(request: OrgRequest, *, create_form=None, rename_forms=None, status=200):
    views = list(_own_views(request).order_by("name"))
    rename_forms = rename_forms or {}
    for view in views:
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
