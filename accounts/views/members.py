"""Members, roles and invitations of an organization (settings/members)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.db.models import Case, IntegerField, Value, When
from django.db.models.functions import Coalesce, Lower, NullIf
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_GET, require_POST

from accounts import services
from accounts.forms import InviteForm, RoleForm
from accounts.models import Invitation, Membership, Role
from accounts.tenancy import OrgRequest, org_member_required
from accounts.views.pages import done, page, sort_order

# The name people see: the user's name, else their email address (User.display_name).
_NAME = Lower(Coalesce(NullIf("user__name", Value("")), "user__email"))
# Owners first: the order of Role, not the alphabet.
_ROLE_RANK = Case(
    *(When(role=role, then=Value(rank)) for rank, role in enumerate(Role.values)),
    output_field=IntegerField(),
)
SORTS = {"name": [_NAME], "role": [_ROLE_RANK, _NAME], "joined": ["created_at", "pk"]}


def _members_page(request: OrgRequest, invite_form: InviteForm | None = None):
    """The members page, or its `members` fragment; every action on it answers with this.

    Actions post to their URL with the page's query string, so a re-rendered list keeps the
    sort the reader chose.
    """
    org = request.org
    can_manage = request.membership.can_manage
    sort, order = sort_order(request, SORTS, "joined")
    members = list(Membership.objects.for_org(org).select_related("user").order_by(*order))
    is_owner = request.membership.role == Role.OWNER
    for m in members:
        # Admins manage everyone but owners; only owners touch owners.
        m.editable = can_manage and (is_owner or m.role != Role.OWNER)
    context = {
        "members": members,
        "sort": sort,
        "me": request.membership,
        "can_manage": can_manage,
        "role_choices": Role.choices if is_owner else Role.choices[1:],
    }
    if can_manage:
        context["invitation_ttl_days"] = settings.INVITATION_TTL_DAYS
        # Open invitations, expired ones too: an admin sees who never joined and re-invites.
        context["invitations"] = list(
            Invitation.objects.for_org(org)
            .filter(accepted_at__isnull=True, revoked_at__isnull=True)
            .select_related("invited_by")
            .order_by("-created_at")
        )
        context["invite_form"] = invite_form or InviteForm(
            organization=org, inviter=request.membership
        )
    return page(request, "accounts/members.html", context, fragment="members")


def _after_change(request: OrgRequest):
    if request.htmx:
        return _members_page(request)
    return redirect("members", org_slug=request.org.slug)


@org_member_required
@require_GET
def members(request: OrgRequest):
    return _members_page(request)


@org_member_required(role=Role.ADMIN)
@require_POST
def invite_member(request: OrgRequest):
    form = InviteForm(request.POST, organization=request.org, inviter=request.membership)
    if not form.is_valid():
        # 200 with the errors next to the fields: htmx 2 does not swap 4xx responses.
        return _members_page(request, invite_form=form)
    invitation = services.invite_member(
        organization=request.org,
        email=form.cleaned_data["email"],
        role=form.cleaned_data["role"],
        actor=request.user,
        accept_url_base=settings.SITE_URL,  # never the Host header: the link goes out by mail
    )
    messages.success(
        request, f"Invitation sent to {invitation.email} as {invitation.get_role_display()}."
    )
    return _after_change(request)


@org_member_required(role=Role.ADMIN)
@require_POST
def change_member_role(request: OrgRequest, membership_id: int):
    target = get_object_or_404(
        Membership.objects.for_org(request.org).select_related("user", "organization"),
        pk=membership_id,
    )
    form = RoleForm(request.POST, actor=request.membership, target=target)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("role", ["Choose a valid role."])))
        return _after_change(request)
    try:
        services.change_role(membership=target, role=form.cleaned_data["role"], actor=request.user)
    except services.LastOwnerError as exc:
        messages.error(request, str(exc))
        return _after_change(request)
    if target.pk == request.membership.pk:
        request.membership.role = target.role
    messages.success(request, f"{target.user.display_name} is now {target.get_role_display()}.")
    return _after_change(request)


@org_member_required(role=Role.ADMIN)
@require_POST
def remove_member(request: OrgRequest, membership_id: int):
    target = get_object_or_404(
        Membership.objects.for_org(request.org).select_related("user", "organization"),
        pk=membership_id,
    )
    if target.role == Role.OWNER and request.membership.role != Role.OWNER:
        messages.error(request, "Only an owner can remove another owner.")
        return _after_change(request)
    try:
        services.remove_member(membership=target, actor=request.user)
    except services.LastOwnerError as exc:
        messages.error(request, str(exc))
        return _after_change(request)
    if target.pk == request.membership.pk:
        messages.success(request, f"You left {request.org.name}.")
        return done(request, "home")
    messages.success(request, f"{target.user.display_name} was removed from {request.org.name}.")
    return _after_change(request)


@org_member_required(role=Role.ADMIN)
@require_POST
def revoke_invitation(request: OrgRequest, invitation_id: int):
    invitation = get_object_or_404(
        Invitation.objects.for_org(request.org).select_related("organization"), pk=invitation_id
    )
    if invitation.status == "pending":
        services.revoke_invitation(invitation=invitation, actor=request.user)
        messages.success(request, f"The invitation to {invitation.email} was revoked.")
    else:
        messages.info(
            request, f"The invitation to {invitation.email} was already {invitation.status}."
        )
    return _after_change(request)
