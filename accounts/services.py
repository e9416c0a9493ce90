"""Workflows of the accounts app: organizations, members, invitations, API credentials.

Forms and serializers validate; these functions assume valid input, run atomically and
record what they did as events (the organization's audit log).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import slugify

from accounts import events
from accounts.models import (
    AccessToken,
    ApiKey,
    Invitation,
    Membership,
    Organization,
    Role,
    User,
    default_plan_id,
    hash_secret,
)

RESERVED_SLUGS = {"admin", "api", "accounts", "static", "new", "settings", "o"}


class LastOwnerError(Exception):
    """The change would leave the organization without an owner."""


def unique_slug(name: str) -> str:
    """A free slug for `name`; a taken one gets a short random suffix."""
    base = slugify(name)[:50].strip("-") or "org"
    if base in RESERVED_SLUGS:
        base = f"{base}-org"
    slug = base
    while Organization.objects.filter(slug=slug).exists():
        slug = f"{base}-{secrets.token_hex(2)}"
    return slug


def create_organization(*, name: str, owner: User) -> Organization:
    """Create an organization with `owner` as its first owner. Atomic; retries slug races."""
    for _attempt in range(5):
        try:
            with transaction.atomic():
                org = Organization.objects.create(
                    name=name.strip(), slug=unique_slug(name), plan_id=default_plan_id()
                )
                Membership.objects.create(organization=org, user=owner, role=Role.OWNER)
                events.emit(org, "organization.created", {"name": org.name}, actor=owner)
        except IntegrityError:
            continue
        User.objects.filter(pk=owner.pk).update(last_organization=org)
        owner.last_organization = org
        return org
    raise RuntimeError("Could not find a free organization slug.")


def register_user(*, email: str, password: str, name: str, organization_name: str) -> Membership:
    """A new user who owns a new organization (the API's register)."""
    with transaction.atomic():
        user = User.objects.create_user(email=email, password=password, name=name.strip())
        org = create_organization(name=organization_name, owner=user)
    return Membership.objects.select_related("organization", "user").get(
        organization=org, user=user
    )


def _lock_owners(membership: Membership) -> list[int]:
    """Lock the organization's owner rows and `membership`'s own row, refresh its role, and
    return the owners' ids. Call inside a transaction.

    The caller loaded `membership` before the transaction: its role may be stale (promoted
    to owner meanwhile, the other owners gone), and deciding on it could leave no owner.
    """
    owners = list(
        Membership.objects.for_org(membership.organization_id)
        .owners()
        .select_for_update()
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    current = (
        Membership.objects.select_for_update()
        .filter(pk=membership.pk)
        .values_list("role", flat=True)
        .first()
    )
    if current is not None:
        membership.role = current
    return owners


def change_role(*, membership: Membership, role: str, actor: User) -> Membership:
    """Set a member's role; refuses to demote the last owner."""
    with transaction.atomic():
        owners = _lock_owners(membership)
        if membership.role == Role.OWNER and role != Role.OWNER and owners == [membership.pk]:
            raise LastOwnerError("The last owner cannot be demoted. Make someone else owner first.")
        previous = membership.role
        membership.role = role
        membership.save(update_fields=["role"])
        events.emit(
            membership.organization,
            "member.role_changed",
            {"user": membership.user.email, "from": previous, "to": role},
            actor=actor,
        )
    return membership


def remove_member(*, membership: Membership, actor: User) -> None:
    """Remove a member (or let a member leave); refuses to remove the last owner.
    The user's API keys and tokens in this organization are revoked with the membership."""
    with transaction.atomic():
        owners = _lock_owners(membership)
        if membership.role == Role.OWNER and owners == [membership.pk]:
            raise LastOwnerError("The last owner cannot leave. Make someone else owner first.")
        org, user = membership.organization, membership.user
        now = timezone.now()
        for model in (ApiKey, AccessToken):
            model.objects.for_org(org).filter(user=user, revoked_at__isnull=True).update(
                revoked_at=now
            )
        membership.delete()
        if user.last_organization_id == org.id:
            User.objects.filter(pk=user.pk).update(last_organization=None)
        kind = "member.left" if actor.pk == user.pk else "member.removed"
        events.emit(org, kind, {"user": user.email}, actor=actor)


def invite_member(
    *, organization: Organization, email: str, role: str, actor: User, accept_url_base: str
) -> Invitation:
    """Invite an email address (replacing an open invitation to it) and mail the link."""
    token = Invitation.new_token()
    with transaction.atomic():
        Invitation.objects.for_org(organization).filter(
            email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=timezone.now())
        invitation = Invitation.objects.create(
            organization=organization,
            email=email.lower(),
            role=role,
            token_hash=hash_secret(token),
            invited_by=actor,
            expires_at=Invitation.default_expiry(),
        )
        events.emit(organization, "member.invited", {"email": email, "role": role}, actor=actor)
        url = f"{accept_url_base.rstrip('/')}/invitations/{token}/"
        transaction.on_commit(lambda: send_invitation_email(invitation, url))
    invitation.accept_url = url
    return invitation


def send_invitation_email(invitation: Invitation, url: str) -> None:
    context = {"invitation": invitation, "url": url, "org": invitation.organization}
    EmailMessage(
        subject=f"[Prospector] Join {invitation.organization.name}",
        body=render_to_string("accounts/email/invitation.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[invitation.email],
    ).send()


def find_invitation(token: str) -> Invitation | None:
    return (
        Invitation.objects.select_related("organization", "invited_by")
        .filter(token_hash=hash_secret(token))
        .first()
    )


def accept_invitation(*, invitation: Invitation, user: User) -> Membership:
    """Join the organization with the invited role. Idempotent for an existing member
    (their role is kept, never lowered by an invitation)."""
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if locked.status != "pending":
            raise ValueError(f"This invitation is {locked.status}.")
        membership, created = Membership.objects.get_or_create(
            organization=locked.organization, user=user, defaults={"role": locked.role}
        )
        locked.accepted_at = timezone.now()
        locked.accepted_by = user
        locked.save(update_fields=["accepted_at", "accepted_by"])
        if created:
            events.emit(
                locked.organization,
                "member.joined",
                {"user": user.email, "role": membership.role},
                actor=user,
            )
    User.objects.filter(pk=user.pk).update(last_organization=locked.organization)
    return membership


def revoke_invitation(*, invitation: Invitation, actor: User) -> None:
    with transaction.atomic():
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        events.emit(
            invitation.organization,
            "member.invitation_revoked",
            {"email": invitation.email},
            actor=actor,
        )


def create_api_key(
    *,
    organization: Organization,
    user: User,
    name: str,
    scopes: dict[str, str],
    expires_at: datetime | None = None,
) -> tuple[ApiKey, str]:
    """A new API key acting as `user`; returns it and the raw key, which is never stored."""
    raw, prefix, digest = ApiKey.generate()
    with transaction.atomic():
        key = ApiKey.objects.create(
            organization=organization,
            user=user,
            name=name,
            scopes=scopes,
            expires_at=expires_at,
            prefix=prefix,
            key_hash=digest,
        )
        events.emit(
            organization,
            "api_key.created",
            {"id": key.pk, "name": name, "prefix": prefix, "scopes": scopes},
            actor=user,
        )
    return key, raw


def revoke_api_key(*, key: ApiKey, actor: User) -> None:
    with transaction.atomic():
        if key.revoked_at is None:
            key.revoked_at = timezone.now()
            key.save(update_fields=["revoked_at"])
            events.emit(
                key.organization,
                "api_key.revoked",
                {"id": key.pk, "name": key.name, "prefix": key.prefix},
                actor=actor,
            )


def issue_access_token(*, organization: Organization, user: User) -> tuple[AccessToken, str]:
    raw, prefix, digest = AccessToken.generate()
    token = AccessToken.objects.create(
        organization=organization,
        user=user,
        prefix=prefix,
        key_hash=digest,
        expires_at=timezone.now() + timedelta(hours=settings.API_TOKEN_TTL_HOURS),
    )
    return token, raw


def revoke_access_token(*, token: AccessToken) -> None:
    """Revoke a personal API token (logout for integrators). Idempotent."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        AccessToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=token.revoked_at
        )


def rename_organization(*, organization: Organization, name: str, actor: User) -> Organization:
    """Rename the organization. The slug stays, so bookmarks and API clients keep working.
    Atomic; records `organization.renamed` (nothing when the name is the same)."""
    with transaction.atomic():
        previous = organization.name
        organization.name = name.strip()
        if organization.name == previous:
            return organization
        organization.save(update_fields=["name"])
        events.emit(
            organization,
            "organization.renamed",
            {"from": previous, "to": organization.name},
            actor=actor,
        )
    return organization


def set_default_country(*, organization: Organization, country: str, actor: User) -> None:
    """The country of phone numbers written without a country code ("" for none). Records
    `organization.updated` when it changes."""
    country = country.upper()
    if organization.default_country == country:
        return
    with transaction.atomic():
        previous = organization.default_country
        organization.default_country = country
        organization.save(update_fields=["default_country"])
        events.emit(
            organization,
            "organization.updated",
            {"default_country": {"from": previous, "to": country}},
            actor=actor,
        )


def set_postal_address(*, organization: Organization, address: str, actor: User) -> None:
    """The address in campaign email footers. Records `organization.updated` on change."""
    address = address.strip()
    if organization.postal_address == address:
        return
    with transaction.atomic():
        organization.postal_address = address
        organization.save(update_fields=["postal_address"])
        events.emit(organization, "organization.updated", {"postal_address": address}, actor=actor)


def register_invited_user(*, invitation: Invitation, name: str, password: str) -> Membership:
    """Create an account for the invited address and accept the invitation with it.

    The emailed token proves the address, so it is stored as verified. Atomic: when the
    invitation is no longer pending (ValueError) no account is left behind.
    """
    from allauth.account.models import EmailAddress

    with transaction.atomic():
        user = User.objects.create_user(
            email=invitation.email, password=password, name=name.strip()
        )
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
        return accept_invitation(invitation=invitation, user=user)
