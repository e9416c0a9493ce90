"""The lead filters shared by the board, the list, exports and the API (django-filter)."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q
from django.db.models.functions import Lower

from accounts.models import Membership, User
from leads.models import Lead, LeadTag, Status, Tag


class LeadFilter(django_filters.FilterSet):
    """`status, owner, tag, source, q, score_min, score_max, created_after, updated_after,
    include_archived`. Build it with `LeadFilter(data, queryset=..., organization=org)` so
    the owner and tag choices are the organization's own."""

    q = django_filters.CharFilter(method="filter_q", label="Search")
    # No DISTINCT: status is a plain column, and DISTINCT makes PostgreSQL sort every match.
    status = django_filters.MultipleChoiceFilter(choices=Status.choices, distinct=False)
    owner = django_filters.ModelChoiceFilter(queryset=User.objects.none(), method="filter_owner")
    tag = django_filters.CharFilter(method="filter_tag", label="Tag")
    source = django_filters.CharFilter(field_name="source", lookup_expr="iexact")
    score_min = django_filters.NumberFilter(field_name="score", lookup_expr="gte", min_value=0)
    score_max = django_filters.NumberFilter(field_name="score", lookup_expr="lte", max_value=100)
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    updated_after = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")
    include_archived = django_filters.BooleanFilter(
        method="filter_archived", widget=forms.CheckboxInput, label="Include archived"
    )

    class Meta:
        model = Lead
        fields: list[str] = []

    def __init__(self, data=None, queryset=None, *, organization=None, request=None, prefix=None):
        super().__init__(data, queryset=queryset, request=request, prefix=prefix)
        if organization is None and request is not None:
            organization = getattr(request, "org", None)
        self.organization = organization
        self.filters["owner"].queryset = User.objects.filter(
            pk__in=Membership.objects.for_org(organization).values("user_id")
        )
        # "none" selects unassigned leads.
        self.filters["owner"].extra["null_label"] = "Unassigned"

    @property
    def qs(self):
        qs = super().qs
        if not self.form.cleaned_data.get("include_archived"):
            qs = qs.filter(archived_at__isnull=True)
        return qs

    def filter_q(self, queryset, name, value):
        return queryset.search(value)

    def filter_owner(self, queryset, name, value):
        # "null" (the filter's null_value, shown as "Unassigned") selects leads without owner.
        if value == self.filters["owner"].null_value:
            return queryset.filter(owner__isnull=True)
        return queryset.filter(owner=value) if value else queryset

    def filter_tag(self, queryset, name, value):
        """Leads with any of the comma-separated tags, case-insensitively."""
        names = [part.strip().lower() for part in value.split(",") if part.strip()]
        if not names:
            return queryset
        tagged = LeadTag.objects.for_org(self.organization).filter(
            tag__in=Tag.objects.for_org(self.organization)
            .annotate(lname=Lower("name"))
            .filter(lname__in=names)
        )
        return queryset.filter(pk__in=tagged.values("lead_id"))

    def filter_archived(self, queryset, name, value):
        return queryset

    @property
    def active_filters(self) -> dict:
        """The filters in use, for "clear" links and saved views."""
        if not self.is_bound or not self.form.is_valid():
            return {}
        return {k: v for k, v in self.form.cleaned_data.items() if v not in (None, "", [], False)}

    def counted_statuses(self) -> list[str] | None:
        """When this filter selects active leads by status and nothing else: those statuses
        ([] for every active lead), so `leads.counts` can give its exact count without
        counting. None when any other filter is in use (or the filter is invalid)."""
        if not self.is_bound:
            return []
        if not self.form.is_valid():
            return None
        used = self.active_filters
        if set(used) - {"status"}:
            return None
        return list(used.get("status", []))

    def known_count(self) -> int | None:
        """The exact number of leads this filter selects, if known without counting them."""
        statuses = self.counted_statuses()
        if statuses is None:
            return None
        from leads.counts import status_counts

        by_status = status_counts(self.organization.pk)
        return sum(n for status, n in by_status.items() if not statuses or status in statuses)


def owner_choices_q(organization) -> Q:
    return Q(pk__in=Membership.objects.for_org(organization).values("user_id"))


def bulk_selection(request, organization, limit: int) -> list[int]:
    """The lead ids a bulk form from the lead list posts: the ticked `ids`, or with
    `all=on` every lead matching the list's filters (carried in the query string), newest
    first. At most `limit + 1` ids, so a caller can tell "too many" apart from "exactly
    `limit`"."""
    from django.http import QueryDict

    leads = Lead.objects.for_org(organization)
    if request.POST.get("all") == "on":
        params = QueryDict(request.META.get("QUERY_STRING", ""))
        lead_filter = LeadFilter(params, queryset=leads, organization=organization)
        return list(
            lead_filter.qs.order_by("-created_at").values_list("pk", flat=True)[: limit + 1]
        )
    wanted = [value for value in request.POST.getlist("ids") if value.isdigit()]
    return list(leads.filter(pk__in=wanted[: limit + 1]).values_list("pk", flat=True))
