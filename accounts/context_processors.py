from __future__ import annotations


def organization(request) -> dict:
    """The active organization and the user's other organizations, for the layout."""
    org = getattr(request, "org", None)
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"org": org}

    def memberships():
        from accounts.models import Membership

        return list(
            Membership.objects.filter(user=user)
            .select_related("organization")
            .order_by("organization__name")
        )

    return {
        "org": org,
        "membership": getattr(request, "membership", None),
        # Lazy: pages that do not show the switcher do not pay for the query.
        "user_memberships": memberships,
    }
