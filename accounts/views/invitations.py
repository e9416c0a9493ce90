"""Accepting an invitation from its emailed link: as a new person, or as an existing user."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts import services
from accounts.forms import InvitationSignupForm
from accounts.models import Membership, User

# HTTP status per state of the page: a dead link is not a success.
STATUS = {"invalid": 404, "expired": 410, "revoked": 410, "accepted": 410}


@require_http_methods(["GET", "POST"])
def invitation(request, token: str):
    invite = services.find_invitation(token)
    state = "invalid" if invite is None else invite.status
    context = {"invitation": invite}
    if state != "pending":
        if invite and _is_member(request.user, invite.organization_id):
            messages.info(request, f"You are already a member of {invite.organization.name}.")
            return redirect("dashboard", org_slug=invite.organization.slug)
        return _render(request, state, context)

    if request.user.is_authenticated:
        if request.user.email.lower() != invite.email.lower():
            return _render(request, "wrong_user", context)
        if request.method == "POST":
            return _join(
                request, lambda: services.accept_invitation(invitation=invite, user=request.user)
            )
        return _render(request, "confirm", context)

    if User.objects.filter(email__iexact=invite.email).exists():
        return _render(request, "login", context)
    form = InvitationSignupForm(request.POST or None, email=invite.email)
    if request.method == "POST" and form.is_valid():
        return _join(
            request,
            lambda: services.register_invited_user(
                invitation=invite,
                name=form.cleaned_data["name"],
                password=form.cleaned_data["password"],
            ),
        )
    return _render(request, "signup", context | {"form": form})


def _is_member(user, organization_id: int) -> bool:
    return (
        user.is_authenticated
        and Membership.objects.filter(user=user, organization_id=organization_id).exists()
    )


def _render(request, state: str, context: dict):
    return render(
        request,
        "accounts/invitation.html",
        context | {"state": state},
        status=STATUS.get(state, 200),
    )


def _join(request, accept):
    """Run the acceptance; a link that died meanwhile (ValueError) is shown as such."""
    try:
        membership = accept()
    except ValueError as exc:
        messages.error(request, str(exc))
        return redirect(request.path)
    if not request.user.is_authenticated:
        login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
    org = membership.organization
    messages.success(
        request, f"Welcome to {org.name}. You joined as {membership.get_role_display()}."
    )
    return redirect("dashboard", org_slug=org.slug)
