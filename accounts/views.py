from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from accounts.models import Membership
from accounts.tenancy import org_member_required


@login_required
def home(request):
    """Land in the organization the user last worked in."""
    memberships = Membership.objects.filter(user=request.user).select_related("organization")
    membership = memberships.filter(organization_id=request.user.last_organization_id).first() or memberships.first()
    if membership is None:
        return render(request, "accounts/no_organization.html")
    return redirect("dashboard", org_slug=membership.organization.slug)


@org_member_required
def dashboard(request):
    return render(request, "accounts/dashboard.html")
