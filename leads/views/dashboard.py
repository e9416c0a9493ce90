"""The organization's home page: the funnel, conversion, where leads come from and who has
them, what happened lately and which of my tasks are late, plus the get-started checklist."""

from __future__ import annotations

from datetime import timedelta

from allauth.mfa.models import Authenticator
from django.db.models import Count, Q
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.models import ApiKey, Invitation, Membership, WebhookEndpoint
from accounts.tenancy import OrgRequest, org_member_required
from accounts.views.pages import page
from leads.charts import ChartRow, bar_chart, funnel_chart, percent, with_shares
from leads.models import Activity, Lead, LeadTask, Status
from leads.views.lead_detail import describe_activities

# The pipeline in order; "lost" closes the funnel as its own row.
STATUS_COLORS = {
    Status.NEW: "#4338ca",
    Status.CONTACTED: "#0e7490",
    Status.REPLIED: "#7e22ce",
    Status.QUALIFIED: "#a16207",
    Status.CONVERTED: "#15803d",
    Status.LOST: "#64748b",
}
TOP_SOURCES = 8
TOP_OWNERS = 8
RECENT_ACTIVITY = 10
OVERDUE_SHOWN = 10


def week_start(now=None):
    """Monday 00:00 of this week in the site's time zone."""
    local = timezone.localtime(now)
    return (local - timedelta(days=local.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )


def _top(rows: list[ChartRow], limit: int, other_label: str) -> list[ChartRow]:
    """The `limit` largest rows, the rest summed into one "other" row."""
    if len(rows) <= limit:
        return rows
    rest = sum(row.value for row in rows[limit - 1 :])
    return [*rows[: limit - 1], ChartRow(other_label, rest, "#94a3b8")]


def _lead_figures(request: OrgRequest) -> dict:
    """Every lead number of the page, grouped in the database: three queries in all."""
    org = request.org
    leads = Lead.objects.for_org(org).active()
    # The lead list (another page of the app) filters by status from the query string.
    list_url = f"/o/{org.slug}/leads/"
    # Counts per status and, in the same GROUP BY, how many of each arrived this week.
    grouped = list(
        leads.order_by()
        .values_list("status")
        .annotate(n=Count("id"), new=Count("id", filter=Q(created_at__gte=week_start())))
        .values_list("status", "n", "new")
    )
    by_status = {status: n for status, n, _new in grouped}
    funnel = [
        ChartRow(label, by_status.get(value, 0), STATUS_COLORS[value], f"{list_url}?status={value}")
        for value, label in Status.choices
    ]
    total = sum(by_status.values())
    sources = [
        ChartRow(source or "No source", n)
        for source, n in leads.order_by()
        .values_list("source")
        .annotate(n=Count("id"))
        .order_by("-n", "source")
        .values_list("source", "n")
    ]
    owners = [
        ChartRow(name or email or "Unassigned", n, "" if owner_id else "#94a3b8")
        for owner_id, name, email, n in leads.order_by()
        .values_list("owner_id", "owner__name", "owner__email")
        .annotate(n=Count("id"))
        .order_by("-n", "owner__name")
        .values_list("owner_id", "owner__name", "owner__email", "n")
    ]
    return {
        "total": total,
        "new_this_week": sum(new for _status, _n, new in grouped),
        "funnel": funnel,
        "converted": by_status.get(Status.CONVERTED, 0),
        "conversion_rate": percent(by_status.get(Status.CONVERTED, 0), total),
        "sources": _top(sources, TOP_SOURCES, "Other sources"),
        "owners": _top(owners, TOP_OWNERS, "Others"),
    }


def _checklist(request: OrgRequest) -> dict:
    org = request.org
    context = {
        "member_count": Membership.objects.for_org(org).count(),
        "has_two_factor": Authenticator.objects.filter(user=request.user).exists(),
    }
    if request.membership.can_manage:
        context["pending_invitations"] = Invitation.objects.for_org(org).pending().count()
        context["has_api_keys"] = ApiKey.objects.for_org(org).usable().exists()
        context["has_webhooks"] = WebhookEndpoint.objects.for_org(org).exists()
    return context


@org_member_required
@require_GET
def dashboard(request: OrgRequest):
    org = request.org
    figures = _lead_figures(request)
    today = timezone.localdate()
    context = {
        "can_manage": request.membership.can_manage,
        "can_write": request.membership.can_write,
        **figures,
        **_checklist(request),
        "recent": describe_activities(
            list(Activity.objects.for_org(org).select_related("lead", "actor")[:RECENT_ACTIVITY])
        ),
        "overdue": list(
            LeadTask.objects.for_org(org)
            .overdue(today)
            .assigned_to(request.user)
            .filter(lead__archived_at__isnull=True)
            .select_related("lead")
            .order_by("due_date", "id")[:OVERDUE_SHOWN]
        ),
    }
    context["week_start_iso"] = week_start().isoformat()
    steps = [context["has_two_factor"], figures["total"] > 0]
    if request.membership.can_manage:
        steps += [context["member_count"] > 1, context["has_api_keys"], context["has_webhooks"]]
    context["show_checklist"] = not all(steps)
    if figures["total"]:
        for name in ("funnel", "sources", "owners"):
            context[f"{name}_table"] = with_shares(figures[name])
        context["funnel_svg"] = funnel_chart(
            figures["funnel"], title="Leads by status", chart_id="chart-funnel"
        )
        context["sources_svg"] = bar_chart(
            figures["sources"], title="Leads by source", chart_id="chart-sources"
        )
        context["owners_svg"] = bar_chart(
            figures["owners"], title="Leads by owner", chart_id="chart-owners"
        )
    return page(request, "leads/dashboard.html", context, fragment="dashboard")
