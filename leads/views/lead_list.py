"""The lead list: a sortable, filtered, paginated table with bulk actions; and the new-lead page.

The filter helpers here are shared with the board (leads/views/board.py): both read the same
LeadFilter from the query string, and carry it in every link and form of the page.
"""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.db.models import Case, F, IntegerField, QuerySet, Value, When
from django.db.models.functions import Lower
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Membership, Role
from accounts.tenancy import OrgRequest, org_member_required
from accounts.views.pages import page
from leads import services
from leads.extensions import LEAD_BULK_ACTIONS, actions_for
from leads.filters import LeadFilter
from leads.forms import BulkAction, BulkForm, LeadCreateForm, split_tags
from leads.models import Lead, LeadTag, Status, Tag

PER_PAGE = 50
# Bulk actions that write one timeline entry and one event per lead run on at most this many.
BULK_LIMIT = 500
# Adding or removing a tag is a single statement, whatever the number of leads.
TAG_BULK_LIMIT = 10_000

FILTER_KEYS = tuple(LeadFilter.base_filters)
# Filters that make no sense on the board: its columns are the statuses, and it shows active
# leads only.
BOARD_IGNORES = ("status", "include_archived")

_STATUS_RANK = Case(
    *(When(status=status, then=Value(rank)) for rank, status in enumerate(Status.values)),
    output_field=IntegerField(),
)
# Sort key: the columns, and whether empty values can occur (those sort last either way).
# Columns that are never empty sort plainly, so PostgreSQL reads them in index order.
SORTS: dict[str, tuple[list, bool]] = {
    "name": ([Lower("first_name"), Lower("last_name"), F("id")], False),
    "company": ([Lower("company__name"), F("id")], True),
    "status": ([_STATUS_RANK, F("id")], False),
    "score": ([F("score"), F("id")], False),
    "owner": ([Lower("owner__name"), F("id")], True),
    "created": ([F("created_at"), F("id")], False),
    "updated": ([F("updated_at"), F("id")], False),
}
DEFAULT_SORT = "-created"
# What a row reads: no JSON columns to decode (score explanation, custom fields, enrichment).
ROW_FIELDS = (
    "id",
    "organization_id",
    "first_name",
    "last_name",
    "email",
    "status",
    "score",
    "archived_at",
    "created_at",
    "updated_at",
    "company__id",
    "company__name",
    "owner__id",
    "owner__name",
    "owner__email",
)
# Past this many matching leads the list says "more than 10,000": an exact COUNT(*) would
# read every row of a large organization on every page.
COUNT_CAP = 10_000


def sort_order(request: OrgRequest) -> tuple[str, list]:
    sort = request.GET.get("sort", DEFAULT_SORT)
    if sort.lstrip("-") not in SORTS:
        sort = DEFAULT_SORT
    columns, nullable = SORTS[sort.lstrip("-")]
    if sort.startswith("-"):
        order = [c.desc(nulls_last=True) if nullable else c.desc() for c in columns]
    else:
        order = [c.asc(nulls_last=True) if nullable else c.asc() for c in columns]
    return sort, order


def capped_count(leads: QuerySet) -> int:
    """How many leads match, stopping at COUNT_CAP + 1 (one bounded query)."""
    return leads.order_by()[: COUNT_CAP + 1].count()


class ListPage:
    """One page of the list, whose total may not be counted.

    Counting the leads that match a filter costs more than reading a page of them once an
    organization holds tens of thousands, so the page reads PER_PAGE + 1 rows (the extra one
    says whether there is a next page) and knows its total only when it is cheap: given
    (`leads.counts` for no filter or status only), or evident (a first page that is not
    full). Otherwise `count` is None and the page asks for it in a second request
    (`lead-total`, see lead_list.html), so the rows never wait for the count.
    """

    def __init__(
        self,
        query: QuerySet,
        number: str | None,
        per_page: int,
        count: int | None,
        *,
        bounded: bool = False,
    ):
        """`count`: the total if known; `bounded`: it came from capped_count (so a count
        above COUNT_CAP means "more than COUNT_CAP")."""
        try:
            self.number = max(1, int(number or 1))
        except ValueError:
            self.number = 1
        self.per_page = per_page
        self.count, self.bounded = count, bounded
        if count is not None:
            self.number = min(self.number, self._last_page())
        rows = self._read(query)
        if not rows and self.number > 1:  # past the end: the last page, as Paginator does
            if self.count is None:
                self.count, self.bounded = capped_count(query), True
            self.number = self._last_page()
            rows = self._read(query)
        self.has_next = len(rows) > per_page
        self.object_list = rows[:per_page]
        if self.count is None and not self.has_next:
            self.count = self.offset + len(self.object_list)

    def _last_page(self) -> int:
        return max(1, -(-self.count // self.per_page))

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.per_page

    def _read(self, query: QuerySet) -> list:
        return list(query[self.offset : self.offset + self.per_page + 1])

    @property
    def capped(self) -> bool:
        return self.bounded and self.count is not None and self.count > COUNT_CAP

    @property
    def total(self) -> int | None:
        return COUNT_CAP if self.capped else self.count

    @property
    def num_pages(self) -> int | None:
        return None if self.count is None else max(1, -(-self.total // self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    def has_other_pages(self) -> bool:
        return self.has_previous or self.has_next

    def previous_page_number(self) -> int:
        return self.number - 1

    def next_page_number(self) -> int:
        return self.number + 1

    def start_index(self) -> int:
        return self.offset + 1 if self.object_list else 0

    def end_index(self) -> int:
        return self.offset + len(self.object_list)


def lead_path(org_slug: str, lead_id: int) -> str:
    return reverse("leads:lead_detail", args=[org_slug, lead_id])


def import_path(org_slug: str) -> str:
    return reverse("leads:imports", args=[org_slug])


def filter_leads(request: OrgRequest, *, board: bool = False) -> tuple[LeadFilter, QuerySet, str]:
    """The page's LeadFilter, the organization's leads it selects, and the filters as a
    query string (for links, forms and saved views)."""
    params = QueryDict(mutable=True)
    for key in FILTER_KEYS:
        if board and key in BOARD_IGNORES:
            continue
        values = [value for value in request.GET.getlist(key) if value.strip()]
        if values:
            params.setlist(key, values)
    lead_filter = LeadFilter(
        params, queryset=Lead.objects.for_org(request.org), organization=request.org
    )
    lead_filter.shown = params  # the filters as the reader gave them, for the filter bar
    return lead_filter, lead_filter.qs, params.urlencode()


def filter_context(request: OrgRequest, lead_filter: LeadFilter, query: str, **extra) -> dict:
    """What the filter bar (leads/_filters.html) needs."""
    org = request.org
    members = list(
        Membership.objects.for_org(org).select_related("user").order_by("user__name", "user__email")
    )
    data = lead_filter.shown
    return {
        "filters": lead_filter,
        "filter_values": {key: data.get(key, "") for key in FILTER_KEYS},
        "filter_statuses": data.getlist("status"),
        "filter_errors": lead_filter.form.errors if lead_filter.is_bound else {},
        "filter_query": query,
        "has_filters": bool(query),
        "members": members,
        "tag_names": list(
            Tag.objects.for_org(org).order_by("name").values_list("name", flat=True)[:300]
        ),
        "statuses": Status.choices,
        "can_write": request.membership.can_write,
        "extra_bulk_actions": actions_for(LEAD_BULK_ACTIONS, request.membership),
        **extra,
    }


# One reverse() for all the rows: the lead page's URL with a stand-in id, replaced per row.
_STAND_IN_ID = 987654321987


def attach_tags(organization, leads: list[Lead]) -> None:
    """`lead.tag_names` for every lead, in one query (cards and rows show them)."""
    names: dict[int, list[str]] = {lead.pk: [] for lead in leads}
    if names:
        links = (
            LeadTag.objects.for_org(organization)
            .filter(lead_id__in=list(names))
            .order_by("tag__name")
            .values_list("lead_id", "tag__name")
        )
        for lead_id, name in links:
            names[lead_id].append(name)
    url = lead_path(organization.slug, _STAND_IN_ID)
    for lead in leads:
        lead.tag_names = names[lead.pk]
        lead.url = url.replace(str(_STAND_IN_ID), str(lead.pk))


def _list_page(request: OrgRequest, *, bulk_form: BulkForm | None = None, confirm=None):
    """The list page, or for HTMX its `lead-results` fragment (or the bulk confirmation, or
    the count of the matching leads that the page asks for when it did not count them)."""
    lead_filter, leads, query = filter_leads(request)
    if request.htmx and request.htmx.target == "lead-total":
        total = capped_count(leads)
        context = {"total": min(total, COUNT_CAP), "total_capped": total > COUNT_CAP}
        context["num_pages"] = max(1, -(-context["total"] // PER_PAGE))
        context["has_filters"] = bool(query)
        return render(request, "leads/lead_list.html#lead-total-counted", context)
    sort, order = sort_order(request)
    rows_query = leads.select_related("company", "owner").only(*ROW_FIELDS).order_by(*order)
    count = lead_filter.known_count()
    bounded = count is None and request.GET.get("count") == "1"
    if bounded:  # the count asked for without JavaScript (the link in place of the total)
        count = capped_count(leads)
    leads_page = ListPage(rows_query, request.GET.get("page"), PER_PAGE, count, bounded=bounded)
    rows = leads_page.object_list
    attach_tags(request.org, rows)
    org_slug = request.org.slug
    list_url = reverse("leads:lead_list", args=[org_slug])
    context = filter_context(
        request,
        lead_filter,
        query,
        filter_page="list",
        filter_action=list_url,
        filter_target="#lead-results",
        sort=sort,
        leads_page=leads_page,
        rows=rows,
        total=leads_page.total,
        total_capped=leads_page.capped,
        count_url=f"{list_url}?{query}&count=1" if query else f"{list_url}?count=1",
        bulk_form=bulk_form or BulkForm(organization=request.org),
        bulk_actions=BulkAction.CHOICES,
        confirm=confirm,
        export_url=reverse("leads:export", args=[org_slug]),
        import_url=import_path(org_slug),
    )
    fragment = "bulk-panel" if confirm is not None else "lead-results"
    return page(request, "leads/lead_list.html", context, fragment=fragment)


@org_member_required
@require_GET
def lead_list(request: OrgRequest):
    return _list_page(request)


def _describe(action: str, data: dict, count: int) -> str:
    leads = f"{count:,} lead{'s' if count != 1 else ''}"
    if action == BulkAction.STATUS:
        return f"Move {leads} to {Status(data['status']).label}"
    if action == BulkAction.OWNER:
        owner = data["owner"]
        return f"Assign {leads} to {owner.display_name}" if owner else f"Unassign {leads}"
    if action == BulkAction.ADD_TAG:
        return f"Tag {leads} with “{data['tag'].strip()}”"
    if action == BulkAction.REMOVE_TAG:
        return f"Remove the tag “{data['tag'].strip()}” from {leads}"
    if action == BulkAction.ARCHIVE:
        return f"Archive {leads}"
    return f"Restore {leads}"


def _run_bulk(request: OrgRequest, action: str, data: dict, leads: list[Lead]) -> str:
    """Apply the action through the lead services (timeline and events per lead). Atomic."""
    actor, org = request.user, request.org
    with transaction.atomic():
        if action == BulkAction.STATUS:
            status = Status(data["status"])
            moved = [lead for lead in leads if lead.status != status]
            for lead in moved:
                services.set_status(lead=lead, status=status, actor=actor)
            return f"{len(moved):,} lead{'s' if len(moved) != 1 else ''} moved to {status.label}."
        if action == BulkAction.OWNER:
            owner = data["owner"]
            changed = [lead for lead in leads if lead.owner_id != (owner.pk if owner else None)]
            for lead in changed:
                services.update_lead(lead=lead, actor=actor, changes={"owner": owner})
            who = owner.display_name if owner else "nobody"
            return f"{len(changed):,} lead{'s' if len(changed) != 1 else ''} assigned to {who}."
        if action == BulkAction.ADD_TAG:
            tag = data["tag"].strip()
            added = services.add_tags(leads=leads, names=[tag], organization=org)
            return f"Tag “{tag}” added to {added:,} lead{'s' if added != 1 else ''}."
        if action == BulkAction.REMOVE_TAG:
            tag = data["tag"].strip()
            removed = services.remove_tags(leads=leads, names=[tag], organization=org)
            return f"Tag “{tag}” removed from {removed:,} lead{'s' if removed != 1 else ''}."
        if action == BulkAction.ARCHIVE:
            active = [lead for lead in leads if lead.archived_at is None]
            for lead in active:
                services.archive_lead(lead=lead, actor=actor)
            return f"{len(active):,} lead{'s' if len(active) != 1 else ''} archived."
        restored, refused = 0, 0
        for lead in leads:
            if lead.archived_at is None:
                continue
            try:
                services.restore_lead(lead=lead, actor=actor)
                restored += 1
            except services.DuplicateLead:
                refused += 1
        text = f"{restored:,} lead{'s' if restored != 1 else ''} restored."
        if refused:
            text += f" {refused:,} could not be: an active lead has their email address now."
        return text


@org_member_required(role=Role.MEMBER)
@require_POST
def bulk_leads(request: OrgRequest):
    """First POST: say how many leads the action touches (the confirm step). Second POST with
    `confirmed`: run it, then the list with a toast."""
    form = BulkForm(request.POST, organization=request.org)
    if not form.is_valid():
        return _list_page(request, bulk_form=form, confirm={"errors": True})
    data = form.cleaned_data
    action = data["action"]
    if data["all"]:
        _filter, targets, _query = filter_leads(request)
    else:
        targets = Lead.objects.for_org(request.org).filter(pk__in=data["ids"])
    limit = TAG_BULK_LIMIT if action in (BulkAction.ADD_TAG, BulkAction.REMOVE_TAG) else BULK_LIMIT
    # Counted up to one past the limit: enough to refuse, without reading 100,000 rows.
    count = targets.order_by()[: limit + 1].count()
    if not data["confirmed"] or count > limit or count == 0:
        confirm = {
            "count": count,
            "limit": limit,
            "too_many": count > limit,
            "text": _describe(action, data, count),
            "action": action,
            "danger": action == BulkAction.ARCHIVE,
            "ids": data["ids"],
            "all": data["all"],
            "value": {
                "status": data.get("status") or "",
                "owner": request.POST.get("owner", ""),
                "tag": (data.get("tag") or "").strip(),
            },
        }
        return _list_page(request, bulk_form=form, confirm=confirm)
    leads = list(targets.select_related("company", "owner", "organization").order_by("pk"))
    messages.success(request, _run_bulk(request, action, data, leads))
    if request.htmx:
        return _list_page(request)
    query = request.GET.urlencode()
    return redirect(
        reverse("leads:lead_list", args=[request.org.slug]) + (f"?{query}" if query else "")
    )


@org_member_required(role=Role.MEMBER)
@require_http_methods(["GET", "POST"])
def new_lead(request: OrgRequest):
    """A lead typed in by hand. An email another active lead has is an error that links it."""
    form = LeadCreateForm(request.POST or None, organization=request.org)
    if request.method == "POST" and form.is_valid():
        try:
            lead = services.create_lead(
                organization=request.org,
                actor=request.user,
                data=form.lead_data(),
                tags=split_tags(form.cleaned_data["tags"]),
                company_name=form.cleaned_data["company"].strip(),
            )
        except services.DuplicateLead as exc:
            form.add_error(
                "email",
                format_html(
                    'A lead with this email already exists: <a href="{}">open it</a>.',
                    lead_path(request.org.slug, exc.existing_id),
                ),
            )
        else:
            messages.success(request, f"Lead created: {lead.display_name}.")
            return redirect(lead_path(request.org.slug, lead.pk))
    context = {"form": form, "board_url": reverse("leads:board", args=[request.org.slug])}
    return page(request, "leads/lead_new.html", context, fragment="lead-form")
