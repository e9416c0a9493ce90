"""Companies over the API: `/api/v1/companies/` and `companies/{id}/leads/`.

A company is deleted for good, and only while no lead (active or archived) points at it:
otherwise the answer is 409 and the leads keep their company. Move or erase the leads first.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db import IntegrityError, transaction
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from config.api import OrgScopedViewSet, error_body, error_response
from leads import scoring
from leads.api.leads import LeadPagination, StrictOrderingFilter
from leads.api.serializers import (
    CompanySerializer,
    CompanyWriteSerializer,
    LeadSerializer,
    lead_rows,
)
from leads.models import Company, CompanySize, Lead
from leads.utils import registered_domain


class CompanyFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="Text in the name or domain.")
    industry = django_filters.CharFilter(
        field_name="industry", lookup_expr="iexact", label="This industry (any case)."
    )
    size = django_filters.MultipleChoiceFilter(
        field_name="size_range", choices=CompanySize.choices, label="Size ranges (repeatable)."
    )
    domain = django_filters.CharFilter(
        method="filter_domain", label="The company of this domain, URL or email address."
    )

    class Meta:
        model = Company
        fields: list[str] = []

    def filter_q(self, queryset, name, value):
        return queryset.search(value)

    def filter_domain(self, queryset, name, value):
        return queryset.filter(domain=registered_domain(value) or value.strip().lower())


def _duplicate_domain(org, domain: str, exclude_id: int | None = None) -> Response | None:
    if not domain:
        return None
    existing = Company.objects.for_org(org).filter(domain=domain)
    if exclude_id:
        existing = existing.exclude(pk=exclude_id)
    existing_id = existing.values_list("pk", flat=True).first()
    if existing_id is None:
        return None
    return Response(
        error_body(
            "conflict",
            f"A company with the domain {domain} already exists (id {existing_id}).",
            {"existing_id": existing_id, "domain": domain},
        ),
        status=status.HTTP_409_CONFLICT,
    )


# Company fields the lead score reads (leads.scoring).
_SCORED_FIELDS = {"industry", "size_range", "location"}

_DUPLICATE = error_response("Another company has this domain (details.existing_id)")


@extend_schema_view(
    list=extend_schema(
        summary="List companies",
        description="By name. `ordering` takes name, domain, industry, created_at or "
        "updated_at, with `-` for descending. `lead_count` counts active leads.",
    ),
    retrieve=extend_schema(summary="Get a company"),
    create=extend_schema(
        summary="Create a company",
        description="`domain` (or else the website's) is stored as the registered domain "
        "and is unique in the organization: 409 names the company that has it.",
        request=CompanyWriteSerializer,
        responses={201: CompanySerializer, 409: _DUPLICATE},
    ),
    partial_update=extend_schema(
        summary="Change a company",
        request=CompanyWriteSerializer,
        responses={200: CompanySerializer, 409: _DUPLICATE},
    ),
    update=extend_schema(
        summary="Replace a company's fields",
        description="As PATCH, with `name` required.",
        request=CompanyWriteSerializer,
        responses={200: CompanySerializer, 409: _DUPLICATE},
    ),
    destroy=extend_schema(
        summary="Delete a company",
        description="Only a company without leads (active or archived) can be deleted; "
        "otherwise 409 with `details.lead_count`.",
        responses={204: None, 409: error_response("The company still has leads")},
    ),
)
class CompanyViewSet(OrgScopedViewSet):
    queryset = Company.objects.all()
    serializer_class = CompanySerializer
    scope_family = "leads"
    lookup_value_regex = r"[0-9]+"
    filter_backends = [DjangoFilterBackend, StrictOrderingFilter]
    filterset_class = CompanyFilter
    ordering_fields = ("name", "domain", "industry", "created_at", "updated_at")
    ordering = ["name", "id"]

    def scope_queryset(self, qs):
        active = (
            Lead.objects.for_org(self.request.org)
            .filter(company=OuterRef("pk"), archived_at__isnull=True)
            .order_by()
            .values("company")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return qs.annotate(lead_count=Coalesce(Subquery(active), 0))

    def filter_queryset(self, queryset):
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def get_serializer_class(self):
        if self.action in ("create", "update", "partial_update"):
            return CompanyWriteSerializer
        return CompanySerializer

    def _answer(self, company: Company, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=company.pk)
        return Response(CompanySerializer(fresh).data, status=code)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(CompanySerializer(page, many=True).data)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(CompanySerializer(self.get_object()).data)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = CompanyWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        domain = serializer.validated_data.get("domain", "")
        conflict = _duplicate_domain(request.org, domain)
        if conflict is not None:
            return conflict
        try:
            with transaction.atomic():
                company = serializer.save(organization=request.org)
        except IntegrityError:  # the same domain, created meanwhile
            return _duplicate_domain(request.org, domain) or Response(
                error_body("conflict", "The company could not be saved; try again."),
                status=status.HTTP_409_CONFLICT,
            )
        return self._answer(company, status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        partial = kwargs.pop("partial", False)
        company = self.get_object()
        serializer = CompanyWriteSerializer(company, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        domain = serializer.validated_data.get("domain", "")
        conflict = _duplicate_domain(request.org, domain, exclude_id=company.pk)
        if conflict is not None:
            return conflict
        if "external_ids" in serializer.validated_data:
            given = serializer.validated_data["external_ids"]
            merged = dict(company.external_ids) if partial else {}
            for key, value in given.items():
                if value is None:
                    merged.pop(key, None)
                else:
                    merged[key] = value
            serializer.validated_data["external_ids"] = merged
        rescore = bool(set(serializer.validated_data) & _SCORED_FIELDS)
        try:
            with transaction.atomic():
                serializer.save()
                if rescore:
                    scoring.rescore_company_leads(company)
        except IntegrityError:
            return _duplicate_domain(request.org, domain, exclude_id=company.pk) or Response(
                error_body("conflict", "The company could not be saved; try again."),
                status=status.HTTP_409_CONFLICT,
            )
        return self._answer(company)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        kwargs["partial"] = True
        return self.update(request, *args, **kwargs)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        company = self.get_object()
        with transaction.atomic():
            count = Lead.objects.for_org(request.org).filter(company=company).count()
            if count:
                return Response(
                    error_body(
                        "conflict",
                        f"{company.name} still has {count} lead{'s' if count != 1 else ''} "
                        "(archived ones included); move or erase them first.",
                        {"lead_count": count},
                    ),
                    status=status.HTTP_409_CONFLICT,
                )
            company.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="A company's leads",
        description="Newest first, as `GET leads/`.",
        parameters=[
            OpenApiParameter(
                "include_archived", bool, description="Archived leads too (default false)."
            ),
            OpenApiParameter(
                "ordering",
                str,
                description="created_at, updated_at, score, last_name or status; - descends.",
            ),
        ],
        responses={200: LeadSerializer(many=True)},
    )
    @action(
        detail=True,
        methods=["get"],
        filter_backends=[],
        pagination_class=LeadPagination,
        ordering_fields=("created_at", "updated_at", "score", "last_name", "status"),
        ordering=["-created_at", "-id"],
    )
    def leads(self, request: Request, pk: str | None = None) -> Response:
        company = self.get_object()
        qs = Lead.objects.for_org(request.org).filter(company=company)
        if request.query_params.get("include_archived", "").lower() not in ("true", "1", "on"):
            qs = qs.active()
        qs = StrictOrderingFilter().filter_queryset(request, qs, self)
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(lead_rows(page))
