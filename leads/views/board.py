"""The pipeline board: a column per status, cards that move between them.

A constant number of queries whatever the number of leads: one GROUP BY for the column counts,
one keyset-paginated query per column (index lead_board: organization, status, -created_at),
one for the cards' tags.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html import escape

from django.contrib import messages
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from accounts.models import Role, User
from accounts.templatetags.ui import initials
from accounts.tenancy import OrgRequest, org_member_required
from accounts.views.pages import page, with_toasts
from leads import services
from leads.counts import status_counts
from leads.filters import LeadFilter
from leads.forms import MoveForm
from leads.models import Lead, Status
from leads.views.lead_list import attach_tags, filter_context, filter_leads, import_path

COLUMN_SIZE = 50
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The board's HTMX targets and the fragment each one gets.
FRAGMENTS = {"board": "board", "board-heads": "board-heads"}


def _cursor(lead: Lead | Card) -> str:
    """Where a column's next page starts: after this card (created_at, id descending)."""
    return f"{(lead.created_at - _EPOCH) // timedelta(microseconds=1)}.{lead.pk}"


def _after(leads: QuerySet, cursor: str) -> QuerySet:
    micros, _, pk = cursor.partition(".")
    if not (micros.isdigit() and pk.isdigit() and len(micros) < 19 and len(pk) < 19):
        raise Http404("No such page of this column.")
    created = _EPOCH + timedelta(microseconds=int(micros))
    return leads.filter(Q(created_at__lt=created) | Q(created_at=created, pk__lt=int(pk)))


class _Owner:
    __slots__ = ("email", "name")
    display_name = User.display_name  # the model's own rule, on two plain fields

    def __init__(self, name: str, email: str):
        self.name, self.email = name, email


class Card:
    """What a board card shows, read with values_list(): building 300 Lead, Company and User
    instances cost the board more time than its queries did."""

    COLUMNS = (
        "id",
        "first_name",
        "last_name",
        "email",
        "status",
        "score",
        "created_at",
        "company_id",
        "company__name",
        "owner_id",
        "owner__name",
        "owner__email",
    )
    # The model's own rules, so a card names a lead exactly as every other page does.
    full_name = Lead.full_name
    display_name = Lead.display_name

    def __init__(self, row: tuple):
        (
            self.pk,
            self.first_name,
            self.last_name,
            self.email,
            self.status,
            self.score,
            self.created_at,
            self.company_id,
            self.company_name,
            self.owner_id,
            owner_name,
            owner_email,
        ) = row
        self.owner = _Owner(owner_name, owner_email) if self.owner_id else None

    @classmethod
    def of(cls, lead: Lead) -> Card:
        company, owner = lead.company, lead.owner
        return cls(
            (
                lead.pk,
                lead.first_name,
                lead.last_name,
                lead.email,
                lead.status,
                lead.score,
                lead.created_at,
                lead.company_id,
                company.name if company else "",
                lead.owner_id,
                owner.name if owner else "",
                owner.email if owner else "",
            )
        )


def _column_cards(leads: QuerySet, status: str, cursor: str = "") -> tuple[list[Card], str]:
    """Up to COLUMN_SIZE cards of one column, newest first, and the cursor of the next page."""
    column = leads.filter(status=status)
    if cursor:
        column = _after(column, cursor)
    rows = column.order_by("-created_at", "-id").values_list(*Card.COLUMNS)[: COLUMN_SIZE + 1]
    cards = [Card(row) for row in rows]
    more = len(cards) > COLUMN_SIZE
    cards = cards[:COLUMN_SIZE]
    return cards, _cursor(cards[-1]) if more else ""


def _counts(lead_filter: LeadFilter, leads: QuerySet) -> dict[str, int]:
    """Leads per column: the maintained counts when no filter is set (one indexed query of a
    few rows), else one GROUP BY over the filtered leads."""
    if lead_filter.counted_statuses() == []:
        return status_counts(lead_filter.organization.pk)
    rows = leads.order_by().values_list("status").annotate(n=Count("*"))
    return dict(rows)


def _menu_buttons() -> dict[str, str]:
    """The Move to menu's buttons for a card in each column: every other status."""
    return {
        current: format_html_join(
            "",
            '<li><button type="submit" class="menu-button" name="status" value="{}">{}</button></li>',
            ((value, label) for value, label in Status.choices if value != current),
        )
        for current in Status.values
    }


def _tags_html(names: list[str]) -> str:
    if not names:
        return ""
    shown = "".join(f'<li class="badge">{escape(name)}</li>' for name in names[:3])
    if len(names) > 3:
        shown += f'<li class="badge" title="{escape(", ".join(names))}">+{len(names) - 3}</li>'
    return f'<ul class="tags" aria-label="Tags">{shown}</ul>'


def _owner_html(lead: Lead) -> str:
    if not lead.owner_id:
        return ""
    name = escape(lead.owner.display_name)
    return (
        f'<span class="avatar avatar-xs" title="Owner: {name}"><span aria-hidden="true">'
        f"{escape(initials(lead.owner.display_name))}</span>"
        f'<span class="visually-hidden">Owner: {name}</span></span>'
    )


def _menu_html(move_url: str, name: str, csrf_token: str, buttons: str) -> str:
    """The Move to menu: a plain form (POST, then redirect) that HTMX sends in the background.
    Its hx-target and hx-swap are inherited from the board."""
    return (
        '<details class="menu move-menu"><summary class="btn btn-sm btn-ghost">Move to…'
        f'<span class="visually-hidden"> {name}</span></summary><div class="menu-panel">'
        f'<form method="post" action="{move_url}" hx-post="{move_url}" hx-disabled-elt="find button">'
        f'<input type="hidden" name="csrfmiddlewaretoken" value="{csrf_token}">'
        f'<ul class="menu-list">{buttons}</ul></form></div></details>'
    )


def prepare_cards(request: OrgRequest, cards: list[Card], query: str, *, can_move: bool) -> str:
    """The cards' HTML (also as `card.html`), built here in one pass. A board shows 300
    cards; as a template (about 30 nodes each) they took four times as long to render as the
    page's queries. Every value from the database goes through escape(), as a template would."""
    attach_tags(request.org, cards)
    stand_in = 987654321987
    move_url = escape(reverse("leads:move", args=[request.org.slug, stand_in]))
    suffix = escape(f"?{query}") if query else ""
    menus = _menu_buttons()
    csrf_token = escape(get_token(request)) if can_move else ""
    for lead in cards:
        name = escape(lead.display_name)
        url = move_url.replace(str(stand_in), str(lead.pk)) + suffix
        score = lead.score
        band = "score-high" if score >= 70 else "score-mid" if score >= 40 else "score-low"
        menu = _menu_html(url, name, csrf_token, menus[lead.status]) if can_move else ""
        owner = _owner_html(lead)
        actions = f'<div class="lead-card-actions">{menu}{owner}</div>' if menu or owner else ""
        drag = f' draggable="true" data-move-url="{url}"' if can_move else ""
        company = (
            f'<p class="lead-card-company">{escape(lead.company_name)}</p>'
            if lead.company_id
            else ""
        )
        lead.html = mark_safe(
            f'<li class="lead-card" id="card-{lead.pk}"{drag}><div class="lead-card-top">'
            f'<a class="lead-card-name" href="{escape(lead.url)}" draggable="false">{name}</a>'
            f'<span class="score {band}" title="Score {score} of 100">'
            f'<span class="visually-hidden">Score </span>{score}</span></div>'
            f"{company}{_tags_html(lead.tag_names)}{actions}</li>"
        )
    return mark_safe("".join(lead.html for lead in cards))


def _board_context(request: OrgRequest) -> dict:
    lead_filter, leads, query = filter_leads(request, board=True)
    columns = []
    for value, label in Status.choices:
        cards, cursor = _column_cards(leads, value)
        columns.append({"status": value, "label": label, "cards": cards, "next": cursor})
    # The column counts: kept by leads.counts without filters; evident when every column
    # fits on the board; otherwise the heads ask for them once the board is shown (a
    # GROUP BY over every matching lead should not hold up the cards).
    if lead_filter.counted_statuses() == []:
        counts = status_counts(lead_filter.organization.pk)
    elif not any(column["next"] for column in columns):
        counts = {column["status"]: len(column["cards"]) for column in columns}
    else:
        counts = None
    for column in columns:
        column["count"] = None if counts is None else counts.get(column["status"], 0)
    can_move = request.membership.can_write
    prepare_cards(
        request,
        [card for column in columns for card in column["cards"]],
        query,
        can_move=can_move,
    )
    for column in columns:
        column["html"] = mark_safe("".join(card.html for card in column["cards"]))
    org_slug = request.org.slug
    return filter_context(
        request,
        lead_filter,
        query,
        filter_page="board",
        filter_action=reverse("leads:board", args=[org_slug]),
        filter_target="#board",
        columns=columns,
        total=None if counts is None else sum(counts.values()),
        can_move=can_move,
        import_url=import_path(org_slug),
    )


def _heads_context(request: OrgRequest) -> dict:
    """The column heads alone (asked for by a board shown without its counts, and after
    every move): the counts, one query."""
    lead_filter, leads, query = filter_leads(request, board=True)
    counts = _counts(lead_filter, leads)
    columns = [
        {"status": value, "label": label, "count": counts.get(value, 0)}
        for value, label in Status.choices
    ]
    return {
        "columns": columns,
        "filter_query": query,
        "total": sum(counts.values()),
        "has_filters": bool(query),
        "update_total": True,
    }


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
    html = prepare_cards(request, cards, query, can_move=request.membership.can_write)
    column = {
        "status": status,
        "label": Status(status).label,
        "cards": cards,
        "html": html,
        "next": cursor,
    }
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
    card = Card.of(lead)
    prepare_cards(request, [card], query, can_move=True)
    context = {
        "lead": card,
        "moved": True,
        "filter_query": query,
        "can_move": True,
        "statuses": Status.choices,
    }
    response = render(request, "leads/board.html#moved-card", context)
    trigger_client_event(response, "leadMoved", {"id": lead.pk, "status": lead.status})
    return with_toasts(request, response)
