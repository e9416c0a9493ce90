"""What the layout shows on every page of an organization: the reader's saved views."""

from __future__ import annotations


def saved_views(request) -> dict:
    org = getattr(request, "org", None)
    user = getattr(request, "user", None)
    if org is None or user is None or not user.is_authenticated:
        return {}

    def views():
        from leads.models import SavedView
        from leads.views.saved_views import view_url

        rows = list(SavedView.objects.for_org(org).filter(user=user).order_by("name")[:30])
        for view in rows:
            view.url = view_url(org.slug, view)
        return rows

    # Lazy: evaluated only where the sidebar renders (not for HTMX fragments).
    return {"sidebar_views": views}
