"""The pipeline board: a column per status, cards that move between them.

A constant number of queries whatever the number of leads: one GROUP BY for the column counts,
one keyset-paginated query per column (index lead_board: organization, status, -created_at),
one for the cards' tags.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.contrib import messages
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from accounts.models import Role
from accounts.tenancy import OrgRequest, org_member_required
from accounts.views._common import page, with_toasts
from leads import services
from leads.forms import MoveForm
from leads.models import Lead, Status
from leads.views.lead_list import attach_tags, filter_context, filter_leads, import_path

COLUMN_SIZE = 50
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The board's HTMX targets and the fragment each one gets.
FRAGMENTS = {"board": "board", "board-heads": "board-heads"}


def _cursor(lead: Lead) -> str:
    """Where a column's next page starts: after this card (created_at, id descending)."""
    return f"{(lead.created_at - _EPOCH) // timedelta(microseconds=1)}.{lead.pk}"


def _after(leads: QuerySet, cursor: str) -> QuerySet:
    micros, _, pk = cursor.partition(".")
    if not (micros.isdigit() and pk.isdigit() and len(micros) < 19 and len(pk) < 19):
        raise Http404("No such page of this column.")
    created = _EPOCH + timedelta(microseconds=int(micros))
    return leads.filter(Q(created_at__lt=created) | Q(created_at=created, pk__lt=int(pk)))


def _column_cards(leads: QuerySet, status: str, cursor: str = "") -> tuple[list[Lead], str]:
    """Up to COLUMN_SIZE cards of one column, newest first, and the cursor of the next page."""
    column = leads.filter(status=status).select_related("company", "owner")
    if cursor:
        column = _after(column, cursor)
    cards = list(column.order_by("-created_at", "-id")[: COLUMN_SIZE + 1])
    more = len(cards) > COLUMN_SIZE
    cards = cards[:COLUMN_SIZE]
    return cards, _cursor(cards[-1]) if more else ""


def _counts(leads: QuerySet) -> dict[str, int]:
    rows = leads.order_by().values_list("status").annotate(n=Count("id"))
    return dict(rows)


def _board_context(request: OrgRequest) -> dict:
    lead_filter, leads, query = filter_leads(request, board=True)
    counts = _counts(leads)
    columns = []
    for value, label in Status.choices:
        cards, cursor = _column_cards(leads, value)
        columns.append(
            {
                "status": value,
                "label": label,
                "count": counts.get(value, 0),
                "cards": cards,
                "next": cursor,
            }
        )
    attach_tags(request.org, [card for column in columns for card in column["cards"]])
    org_slug = request.org.slug
    return filter_context(
        request,
        lead_filter,
        query,
        filter_page="board",
        filter_action=reverse("leads:board", args=[org_slug]),
        filter_target="#board",
        columns=columns,
        total=sum(counts.values()),
        can_move=request.membership.can_write,
        import_url=import_path(org_slug),
    )


def _heads_context(request: OrgRequest) -> dict:
    """The column heads alone (refreshed after a move): the counts, one query."""
    _filter, leads, query = filter_leads(request, board=True)
    counts = _counts(leads)
    columns = [
        {"status": value, "label": label, "count": counts.get(value, 0)}
        for value, label in Status.choices
    ]
    return {"columns": columns, "filter_query": query}


@org_member_required
@require_GET
def board(request: OrgRequest):
    """The board, or for HTMX one of its regions (the view picks it from the target)."""
    fragment = FRAGMENTS.get(request.htmx.target) if request.htmx else None
    if fragment == "board-heads":
        return page(request, "leads/board.html", _heads_context(request), fragment=fragment)
    context = _board_context(request)
    return page(request, "leads/board.html", context, fragment=fragment or "board")


@org_member_required
@require_GET
def board_column(request: OrgRequest, status: str):
    """More cards of one column (loaded when its end scrolls into view). Without HTMX, the
    list filtered by that status shows them all."""
    if status not in Status.values:
        raise Http404("No such column.")
    _filter, leads, query = filter_leads(request, board=True)
    if not request.htmx:
        url = reverse("leads:lead_list", args=[request.org.slug])
        return redirect(f"{url}?status={status}" + (f"&{query}" if query else ""))
    cards, cursor = _column_cards(leads, status, request.GET.get("after", ""))
    attach_tags(request.org, cards)
    column = {"status": status, "label": Status(status).label, "cards": cards, "next": cursor}
    context = {
        "column": column,
        "filter_query": query,
        "can_move": request.membership.can_write,
        "statuses": Status.choices,
    }
    return render(request, "leads/board.html#column-cards", context)


@org_member_required(role=Role.MEMBER)
@require_POST
def move_lead(request: OrgRequest, lead_id: int):
    """Change a lead's status from the board (drag and drop, or the card's Move to menu)."""
    lead = get_object_or_404(
        Lead.objects.for_org(request.org).active().select_related("company", "owner"),
        pk=lead_id,
    )
    _filter, _leads, query = filter_leads(request, board=True)
    form = MoveForm(request.POST)
    if form.is_valid():
        status = Status(form.cleaned_data["status"])
        services.set_status(lead=lead, status=status, actor=request.user)
        messages.success(request, f"Lead moved to {status.label}: {lead.display_name}.")
    else:
        messages.error(request, "Choose one of the pipeline's statuses.")
    if not request.htmx:
        url = reverse("leads:board", args=[request.org.slug])
        return redirect(f"{url}?{query}" if query else url)
    if not form.is_valid():
        # 204: htmx swaps nothing (the card stays where it was) and still shows the toast.
        return with_toasts(request, HttpResponse(status=204))
    attach_tags(request.org, [lead])
    context = {
        "lead": lead,
        "moved": True,
        "filter_query": query,
        "can_move": True,
        "statuses": Status.choices,
    }
    response = render(request, "leads/board.html#card", context)
    trigger_client_event(response, "leadMoved", {"id": lead.pk, "status": lead.status})
    return with_toasts(request, response)
