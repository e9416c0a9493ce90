"""Leads over the API: `/api/v1/leads/` (list, create, read, change, archive, restore),
their timeline (`leads/{id}/activities/`) and bulk actions (`leads/bulk/`).

Writes go through leads.services, so the timeline and the event log record them the same
way as in the browser; a status change only ever goes through `services.set_status`.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Subquery, Sum
from django.db.models.functions import Coalesce, Lower
from django.http import HttpResponse
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import filters, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import events
from config.api import OrgScopedViewSet, error_body, error_response
from config.pagination import Pagination
from leads import services
from leads.api.serializers import (
    BULK_MAX,
    ActivityCreateSerializer,
    ActivitySerializer,
    BulkAction,
    BulkResultSerializer,
    BulkSerializer,
    LeadSerializer,
    LeadWriteSerializer,
    MessageSerializer,
    lead_rows,
    lead_values,
    pg_lead_page,
    pg_page_can_order,
    read_lead,
)
from leads.counts import COMPACT_FROM, compact, status_counts
from leads.filters import LeadFilter
from leads.models import Activity, ActivityKind, Lead, LeadCount, LeadTag

_FILTER_PARAMS = frozenset(LeadFilter.base_filters)

LEAD_ORDERING_FIELDS = ("created_at", "updated_at", "score", "last_name", "status")


class StrictOrderingFilter(filters.OrderingFilter):
    """`?ordering=-score,last_name`: unknown fields are a 400 rather than silently ignored,
    and the id breaks ties so that limit/offset pages never repeat or skip a row."""

    def remove_invalid_fields(self, queryset, fields, view, request):
        valid = self.get_valid_fields(queryset, view, {"request": request})
        allowed = {name for name, _label in valid}
        bad = [term for term in fields if term.lstrip("-") not in allowed]
        if bad:
            raise serializers.ValidationError(
                {
                    self.ordering_param: [
                        f"Cannot order by {', '.join(bad)}; use {', '.join(sorted(allowed))}, "
                        "with - for descending."
                    ]
                }
            )
        return [term for term in fields if term]

    def filter_queryset(self, request, queryset, view):
        ordering = self.get_ordering(request, queryset, view) or []
        ordering = list(ordering)
        if ordering and ordering[-1].lstrip("-") != "id":
            ordering.append("-id" if ordering[-1].startswith("-") else "id")
        return queryset.order_by(*ordering) if ordering else queryset


class LeadPagination(Pagination):
    """Limit/offset over leads, answering pages of lead `values()` rows (see
    leads.api.serializers), with a cheap `count` on big organizations.

    Unfiltered or filtered by status only, the count is exact and comes with the page in
    the same query, summed from the maintained per-status counts (leads.counts). With
    other filters, counting every matching lead costs more than reading a page of them once
    an organization holds tens of thousands, so a count of at least COUNT_CACHE_FROM rows is
    kept for COUNT_CACHE_SECONDS per organization, path and filter set (in the shared cache,
    so every web process sees it). Smaller counts are always exact and never cached. The
    count runs on the filtered queryset itself, before the company and owner joins.
    """

    COUNT_CACHE_FROM = 10_000
    COUNT_CACHE_SECONDS = 10
    _IGNORED = frozenset({"limit", "offset", "ordering"})

    def _count_key(self, request) -> str:
        params = sorted(
            (key, tuple(sorted(request.query_params.getlist(key))))
            for key in request.query_params
            if key not in self._IGNORED
        )
        digest = hashlib.sha256(repr((request.path, params)).encode()).hexdigest()[:40]
        return f"leads:count:{request.org.pk}:{digest}"

    def _counted_statuses(self, request, view) -> list[str] | None:
        """When the list of all the organization's leads filters by status or not at all:
        those statuses ([] for every active lead), whose exact count the maintained
        per-status counts (leads.counts) give without counting. Else None."""
        if not getattr(view, "counts_all_leads", False) or view.action != "list":
            return None
        filtered = set(request.query_params) - self._IGNORED
        if not filtered:
            # What LeadFilter.counted_statuses() answers here, without building its form.
            return []
        if filtered != {"status"}:
            return None
        lead_filter = LeadFilter(
            request.query_params, queryset=Lead.objects.none(), organization=request.org
        )
        return lead_filter.counted_statuses()

    def _page_and_known_count(self, queryset, request, statuses: list[str]):
        """The page of rows, each carrying the count as leads.counts.status_counts() sums
        it (from subqueries the database runs once): one query for both. An empty page
        asks leads.counts itself."""
        organization_id = request.org.pk
        counts = LeadCount.objects.filter(organization_id=organization_id).order_by()
        per_org = counts.values("organization_id")
        chosen = counts.filter(status__in=statuses) if statuses else counts
        total = chosen.values("organization_id").annotate(total=Sum("n")).values("total")
        pile = per_org.annotate(rows=Count("id")).values("rows")
        rows = list(
            lead_values(queryset, request.org).annotate(
                known_count=Coalesce(Subquery(total), 0), count_rows=Subquery(pile)
            )[self.offset : self.offset + self.limit]
        )
        if not rows:
            by_status = status_counts(organization_id)
            return rows, sum(n for s, n in by_status.items() if not statuses or s in statuses)
        if (rows[0]["count_rows"] or 0) > COMPACT_FROM:
            compact(organization_id)  # as status_counts() does once rows pile up
        return rows, rows[0]["known_count"]

    def json_response(self, queryset, request, view) -> HttpResponse | None:
        """The whole page as JSON written by PostgreSQL (leads.api.serializers.pg_lead_page)
        when the list filters by status or not at all: the rows and the count in one query,
        then joined as text. None elsewhere (SQLite, other filters), for the page of rows."""
        if connection.vendor != "postgresql":
            return None
        statuses = self._counted_statuses(request, view)
        ordering = tuple(queryset.query.order_by)
        if statuses is None or not pg_page_can_order(ordering):
            return None
        self.request = request
        self.limit = self.get_limit(request)
        self.offset = self.get_offset(request)
        organization_id = request.org.pk
        rows, count, count_rows = pg_lead_page(
            organization_id,
            statuses=statuses,
            ordering=ordering,
            limit=self.limit,
            offset=self.offset,
        )
        if count is None:  # an empty page
            by_status = status_counts(organization_id)
            count = sum(n for s, n in by_status.items() if not statuses or s in statuses)
        elif count_rows > COMPACT_FROM:
            compact(organization_id)  # as status_counts() does once rows pile up
        self.count = count
        # The keys, their order and the separators of DRF's JSONRenderer (the rows keep
        # PostgreSQL's spacing), and its escapes for JavaScript's line separators.
        body = (
            f'{{"count":{count},"next":{json.dumps(self.get_next_link())},'
            f'"previous":{json.dumps(self.get_previous_link())},"results":[{",".join(rows)}]}}'
        )
        body = body.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
        return HttpResponse(body.encode(), content_type="application/json")

    def paginate_queryset(self, queryset, request, view=None) -> list[dict[str, Any]]:
        self.request = request
        self.limit = self.get_limit(request)
        self.offset = self.get_offset(request)
        statuses = self._counted_statuses(request, view)
        if statuses is not None:
            rows, self.count = self._page_and_known_count(queryset, request, statuses)
            return rows
        key = self._count_key(request)
        count = cache.get(key)
        if count is None:
            count = queryset.count()
            if count >= self.COUNT_CACHE_FROM:
                cache.set(key, count, self.COUNT_CACHE_SECONDS)
            elif count == 0 or self.offset >= count:
                self.count = count
                return []
        self.count = count
        rows = lead_values(queryset, request.org)
        return list(rows[self.offset : self.offset + self.limit])


def conflict_response(exc: services.DuplicateLead) -> Response:
    """409 in the error shape, naming the active lead that has the email."""
    return Response(
        error_body("conflict", str(exc), {"existing_id": exc.existing_id, "email": exc.email}),
        status=status.HTTP_409_CONFLICT,
    )


_DUPLICATE = error_response("Another active lead has this email (details.existing_id)")


def _json_merge(current: dict[str, Any], given: dict[str, Any], *, merge: bool) -> dict[str, Any]:
    """PATCH merges (a null value removes the key); PUT and create replace."""
    result = dict(current) if merge else {}
    for key, value in given.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = value
    return result


def set_lead_tags(*, lead: Lead, names: list[str], organization) -> None:
    """Make the lead's tags exactly these names (case-insensitively)."""
    current = {
        name.lower(): name
        for name in LeadTag.objects.for_org(organization)
        .filter(lead=lead)
        .values_list("tag__name", flat=True)
    }
    wanted = {name.lower() for name in names}
    missing = [name for name in names if name.lower() not in current]
    extra = [name for key, name in current.items() if key not in wanted]
    if missing:
        services.add_tags(leads=[lead], names=missing, organization=organization)
    if extra:
        services.remove_tags(leads=[lead], names=extra, organization=organization)


@extend_schema_view(
    list=extend_schema(
        summary="List leads",
        description="Active leads, newest first, with the filters below (`include_archived=true` "
        "adds archived ones). `ordering` takes created_at, updated_at, score, last_name or "
        "status, with `-` for descending. Above 10,000 matching leads the `count` may lag "
        "changes by a few seconds; the rows never do.",
    ),
    retrieve=extend_schema(summary="Get a lead", description="Archived leads included."),
    create=extend_schema(
        summary="Create a lead",
        description="Give at least an email or a name. `company` (a name) is matched or "
        "created, `company_id` picks one of your companies; without either the work email's "
        "domain finds the company. The status may be set here; change it later with PATCH.",
        request=LeadWriteSerializer,
        responses={201: LeadSerializer, 409: _DUPLICATE},
    ),
    partial_update=extend_schema(
        summary="Change a lead",
        description="Only the fields given. A new `status` moves the lead through the "
        "pipeline (recorded on its timeline); edits of other fields are recorded too. "
        "`custom_fields` and `external_ids` are merged (null removes a key); `tags` replaces "
        "the lead's tags.",
        request=LeadWriteSerializer,
        responses={200: LeadSerializer, 409: _DUPLICATE},
    ),
    update=extend_schema(
        summary="Replace a lead's fields",
        description="As PATCH, but `custom_fields` and `external_ids` are replaced as a whole "
        "and an email or a name is required.",
        request=LeadWriteSerializer,
        responses={200: LeadSerializer, 409: _DUPLICATE},
    ),
    destroy=extend_schema(
        summary="Archive a lead",
        description="A soft delete: the lead leaves lists and frees its email; "
        "`POST leads/{id}/restore/` brings it back. Archiving twice does nothing.",
        responses={200: MessageSerializer},
    ),
)
class LeadViewSet(OrgScopedViewSet):
    queryset = Lead.objects.all()
    serializer_class = LeadSerializer
    scope_family = "leads"
    lookup_value_regex = r"[0-9]+"
    filter_backends = [DjangoFilterBackend, StrictOrderingFilter]
    filterset_class = LeadFilter
    ordering_fields = LEAD_ORDERING_FIELDS
    ordering = ["-created_at", "-id"]
    pagination_class = LeadPagination
    # The list is every lead of the organization, so its count may come from leads.counts.
    counts_all_leads = True

    def filter_queryset(self, queryset):
        # The list filters select rows to list; an id in the URL reaches archived leads too.
        if self.action != "list":
            return queryset
        if not _FILTER_PARAMS.intersection(self.request.query_params):
            # No filter asked: what LeadFilter would do (active leads), without building and
            # validating a filter form on every page of a plain listing.
            return StrictOrderingFilter().filter_queryset(self.request, queryset.active(), self)
        return super().filter_queryset(queryset)

    def get_serializer_class(self):
        if self.action in ("create", "update", "partial_update"):
            return LeadWriteSerializer
        return LeadSerializer

    def _lead(self) -> Lead:
        lead = self.get_object()
        lead.organization = self.request.org
        return lead

    # ------------------------------------------------------------ read

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # Rows as JSON from PostgreSQL, else as values() with their tags: see
        # leads.api.serializers.
        queryset = self.filter_queryset(self.get_queryset())
        response = self.paginator.json_response(queryset, request, self)
        if response is not None:
            return response
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(lead_rows(page))

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        lead = self.get_object()
        return Response(read_lead(request.org, lead.pk))

    # ------------------------------------------------------------ write

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = LeadWriteSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        tags = data.pop("tags", [])
        company_name = ""
        if "company_id" in data:
            data["company"] = data.pop("company_id")
        elif "company" in data:
            company_name = data.pop("company").strip()
            if not company_name:
                data["company"] = None  # explicitly none: not even from the email's domain
        if "owner_id" in data:
            data["owner"] = data.pop("owner_id")
        data["custom_fields"] = _json_merge({}, data.get("custom_fields", {}), merge=False)
        data["external_ids"] = _json_merge({}, data.get("external_ids", {}), merge=False)
        try:
            lead = services.create_lead(
                organization=request.org,
                actor=request.user,
                data=data,
                tags=tags,
                company_name=company_name,
            )
        except services.DuplicateLead as exc:
            return conflict_response(exc)
        except IntegrityError:
            # Another request created the same email between the check and the insert.
            existing = services.active_lead_with_email(request.org, data.get("email", ""))
            if existing is None:
                raise
            return conflict_response(services.DuplicateLead(existing.pk, data["email"]))
        return Response(read_lead(request.org, lead.pk), status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        partial = kwargs.pop("partial", False)
        lead = self._lead()
        serializer = LeadWriteSerializer(
            lead, data=request.data, partial=partial, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        new_status = data.pop("status", None)
        tags = data.pop("tags", None)
        changes: dict[str, Any] = {}
        try:
            with transaction.atomic():
                if "company_id" in data:
                    changes["company"] = data.pop("company_id")
                elif "company" in data:
                    name = data.pop("company").strip()
                    changes["company"] = (
                        services.find_or_create_company(organization=request.org, name=name)
                        if name
                        else None
                    )
                if "owner_id" in data:
                    changes["owner"] = data.pop("owner_id")
                for field in ("custom_fields", "external_ids"):
                    if field in data:
                        data[field] = _json_merge(getattr(lead, field), data[field], merge=partial)
                changes.update(data)
                services.update_lead(lead=lead, actor=request.user, changes=changes)
                if new_status is not None and new_status != lead.status:
                    services.set_status(lead=lead, status=new_status, actor=request.user)
                if tags is not None:
                    set_lead_tags(lead=lead, names=tags, organization=request.org)
        except services.DuplicateLead as exc:
            return conflict_response(exc)
        return Response(read_lead(request.org, lead.pk))

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        kwargs["partial"] = True
        return self.update(request, *args, **kwargs)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.archive_lead(lead=self._lead(), actor=request.user)
        return Response({"message": "Lead archived"})

    @extend_schema(
        summary="Restore an archived lead",
        description="Restoring an active lead does nothing. 409 when another active lead "
        "took its email meanwhile (`details.existing_id`).",
        request=None,
        responses={200: LeadSerializer, 409: _DUPLICATE},
    )
    @action(detail=True, methods=["post"])
    def restore(self, request: Request, pk: str | None = None) -> Response:
        lead = self._lead()
        try:
            services.restore_lead(lead=lead, actor=request.user)
        except services.DuplicateLead as exc:
            return conflict_response(exc)
        return Response(read_lead(request.org, lead.pk))

    # ------------------------------------------------------------ timeline

    @extend_schema(
        methods=["GET"],
        summary="A lead's timeline",
        description="Newest first: notes, calls, meetings, status changes, field edits, "
        "imports, emails, enrichment and agent runs.",
        responses={200: ActivitySerializer(many=True)},
    )
    @extend_schema(
        methods=["POST"],
        summary="Log a note, call or meeting",
        request=ActivityCreateSerializer,
        responses={201: ActivitySerializer},
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[], pagination_class=Pagination)
    def activities(self, request: Request, pk: str | None = None) -> Response:
        lead = self._lead()
        if request.method == "POST":
            serializer = ActivityCreateSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
            activity = services.add_activity(
                lead=lead,
                kind=data["kind"],
                actor=request.user,
                body=data["body"],
                occurred_at=data.get("occurred_at"),
            )
            activity.actor = request.user
            return Response(ActivitySerializer(activity).data, status=status.HTTP_201_CREATED)
        qs = Activity.objects.for_lead(lead).select_related("actor")
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(ActivitySerializer(page, many=True).data)

    # ------------------------------------------------------------ bulk

    @extend_schema(
        summary="Change many leads at once",
        description=f"Select leads by `ids` or by `filter` (the list filters as an object; "
        f"at most {BULK_MAX:,} leads) and apply one `action`: `status` (each move recorded "
        "on the lead's timeline), `owner` (a member's user id, or null), `add_tags`, "
        "`remove_tags`, `archive` or `restore` (with a filter, restore picks among archived "
        "leads; leads whose email was taken meanwhile stay archived, listed in `conflicts`).",
        request=BulkSerializer,
        responses={200: BulkResultSerializer},
    )
    @action(detail=False, methods=["post"], filter_backends=[])
    def bulk(self, request: Request) -> Response:
        serializer = BulkSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        ids, not_found = _bulk_selection(request, data)
        result = run_bulk(
            organization=request.org,
            actor=request.user,
            ids=ids,
            action=data["action"],
            value=data.get("value"),
        )
        return Response(result | {"action": data["action"], "not_found": not_found})


def _bulk_selection(request: Request, data: dict[str, Any]) -> tuple[list[int], list[int]]:
    """(the organization's lead ids selected, the given ids that are not its leads)."""
    leads = Lead.objects.for_org(request.org)
    if "ids" in data:
        wanted = sorted(set(data["ids"]))
        found = set(leads.filter(pk__in=wanted).values_list("pk", flat=True))
        return sorted(found), [pk for pk in wanted if pk not in found]
    params: dict[str, Any] = {}
    known = set(LeadFilter.base_filters)
    unknown = sorted(set(data["filter"]) - known)
    if unknown:
        raise serializers.ValidationError(
            {"filter": [f"Unknown filters: {', '.join(unknown)}; use {', '.join(sorted(known))}."]}
        )
    for key, value in data["filter"].items():
        if key == "status":
            value = value.split(",") if isinstance(value, str) else value
            if not isinstance(value, list):
                raise serializers.ValidationError({"filter": ["status: give a list of statuses."]})
            params[key] = [str(v) for v in value]
        elif isinstance(value, bool):
            params[key] = "true" if value else "false"
        elif value is None:
            continue
        else:
            params[key] = str(value)
    if data["action"] == BulkAction.RESTORE:
        params["include_archived"] = "true"
    filterset = LeadFilter(params, queryset=leads, organization=request.org)
    if not filterset.is_valid():
        raise serializers.ValidationError({"filter": filterset.errors})
    qs = filterset.qs
    if data["action"] == BulkAction.RESTORE:
        qs = qs.archived()
    ids = list(qs.order_by().values_list("pk", flat=True)[: BULK_MAX + 1])
    if len(ids) > BULK_MAX:
        raise serializers.ValidationError(
            {"filter": [f"More than {BULK_MAX:,} leads match; narrow the filter."]}
        )
    return sorted(ids), []


def run_bulk(*, organization, actor, ids: list[int], action: str, value: Any) -> dict[str, Any]:
    """Apply one bulk action to these leads of the organization. Set-based except for
    status, where each move needs its own timeline entry and event. Atomic."""
    leads = Lead.objects.for_org(organization).filter(pk__in=ids)
    conflicts: list[dict[str, int]] = []
    now = timezone.now()
    with transaction.atomic():
        if action == BulkAction.STATUS:
            moving = list(leads.exclude(status=value).only("id", "status", "converted_at"))
            for lead in moving:
                lead.organization = organization
                services.set_status(lead=lead, status=value, actor=actor)
            updated = len(moving)
        elif action == BulkAction.OWNER:
            changing = leads.exclude(owner=value) if value else leads.filter(owner__isnull=False)
            rows = list(changing.values_list("pk", "owner__email"))
            leads.filter(pk__in=[pk for pk, _ in rows]).update(owner=value, updated_at=now)
            new = value.email if value else None
            _bulk_activities(
                organization,
                actor,
                [pk for pk, _ in rows],
                ActivityKind.FIELD_CHANGE,
                now,
                data_of={pk: {"changes": {"owner": [old, new]}} for pk, old in rows},
            )
            updated = len(rows)
        elif action == BulkAction.ADD_TAGS:
            wanted = {name.strip().lower() for name in value}
            has = _tag_pairs(organization, ids, wanted)
            updated = sum(1 for pk in ids if any((pk, name) not in has for name in wanted))
            services.add_tags(
                leads=[Lead(pk=pk) for pk in ids], names=value, organization=organization
            )
        elif action == BulkAction.REMOVE_TAGS:
            has = _tag_pairs(organization, ids, {name.strip().lower() for name in value})
            updated = len({pk for pk, _name in has})
            services.remove_tags(
                leads=[Lead(pk=pk) for pk in ids], names=value, organization=organization
            )
        elif action == BulkAction.ARCHIVE:
            archiving = list(leads.active().values_list("pk", flat=True))
            leads.filter(pk__in=archiving).update(archived_at=now, updated_at=now)
            _bulk_activities(organization, actor, archiving, ActivityKind.ARCHIVED, now)
            updated = len(archiving)
        else:
            restorable, conflicts = _restorable(organization, leads)
            leads.filter(pk__in=restorable).update(archived_at=None, updated_at=now)
            _bulk_activities(organization, actor, restorable, ActivityKind.RESTORED, now)
            updated = len(restorable)
        if updated and action != BulkAction.STATUS:
            # One audit entry for the batch (status moves emit theirs lead by lead).
            events.emit(
                organization,
                "lead.bulk_changed",
                {
                    "action": action,
                    "value": getattr(value, "email", value),
                    "count": updated,
                    "ids": ids[:1000],
                },
                actor=actor,
                webhooks=False,
            )
    return {
        "matched": len(ids),
        "updated": updated,
        "unchanged": len(ids) - updated,
        "conflicts": conflicts,
    }


def _tag_pairs(organization, ids: list[int], lowered: set[str]) -> set[tuple[int, str]]:
    return set(
        LeadTag.objects.for_org(organization)
        .filter(lead_id__in=ids)
        .annotate(lname=Lower("tag__name"))
        .filter(lname__in=lowered)
        .values_list("lead_id", "lname")
    )


def _restorable(organization, leads) -> tuple[list[int], list[dict[str, int]]]:
    """The archived leads that can come back, and those whose email an active lead has
    (or another lead of the same batch, the lowest id winning)."""
    archived = list(leads.archived().order_by("pk").values_list("pk", "email"))
    emails = {email for _pk, email in archived if email}
    taken = dict(
        Lead.objects.for_org(organization)
        .active()
        .filter(email__in=emails)
        .values_list("email", "pk")
    )
    restorable, conflicts = [], []
    for pk, email in archived:
        if email and email in taken:
            conflicts.append({"id": pk, "existing_id": taken[email]})
            continue
        if email:
            taken[email] = pk
        restorable.append(pk)
    return restorable, conflicts


def _bulk_activities(
    organization,
    actor,
    ids: list[int],
    kind: str,
    when,
    data_of: dict[int, dict[str, Any]] | None = None,
) -> None:
    Activity.objects.bulk_create(
        [
            Activity(
                organization=organization,
                lead_id=pk,
                kind=kind,
                actor=actor,
                data=(data_of or {}).get(pk, {}),
                occurred_at=when,
            )
            for pk in ids
        ],
        batch_size=1000,
    )
