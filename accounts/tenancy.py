"""Tenancy for HTML views: `/o/<org_slug>/...` resolved to `request.org` and a membership."""

from __future__ import annotations

from functools import wraps
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest

from accounts.models import Membership, Organization, Role

if TYPE_CHECKING:
    from accounts.models import User


class OrgRequest(HttpRequest):
    """An HttpRequest that passed `org_member_required`."""

    user: User
    org: Organization
    membership: Membership


def get_membership(user, org_slug: str) -> Membership:
    """The user's membership in the organization with this slug, or 404 (never 403:
    a non-member must not learn whether the organization exists)."""
    membership = (
        Membership.objects.select_related("organization", "organization__plan")
        .filter(organization__slug=org_slug, user=user)
        .first()
    )
    if membership is None:
        raise Http404("No such organization.")
    return membership


def org_member_required(view=None, *, role: str = Role.VIEWER):
    """Resolve the organization from the URL's `org_slug`; 404 for non-members, 403 below `role`.

    Sets `request.org` and `request.membership`, and remembers the organization as the user's
    last one (where the next login lands).
    """

    def decorator(view_func):
        @wraps(view_func)
        def wrapper(request, org_slug: str, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership = get_membership(request.user, org_slug)
            if not membership.has_role(role):
                raise PermissionDenied("Your role in this organization does not allow this.")
            request.org = membership.organization
            request.membership = membership
            if request.user.last_organization_id != request.org.id:
                # request.user is a SimpleLazyObject, so type(request.user) is not the model.
                get_user_model().objects.filter(pk=request.user.pk).update(
                    last_organization=request.org
                )
                request.user.last_organization = request.org
            return view_func(request, *args, **kwargs)

        wrapper.org_scoped = True
        return wrapper

    if view is not None:
        return decorator(view)
    return decorator
