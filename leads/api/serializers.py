"""Serializers of the leads API: leads, companies, activities and bulk actions.

Reading a lead is the hot path (`GET /api/v1/leads/` with 100 rows a page), so lead JSON is
built from `values()` rows by `lead_rows()` rather than from model instances: one query for
the rows with their company, owner and tags, whatever the page size. The
serializers below document that shape for the schema and validate what clients write.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.db import connection
from django.db.models import OuterRef, QuerySet, StringAgg, Subquery, Value
from rest_framework import serializers

from accounts.models import Membership, User
from config.api import NamedChoiceField, StrictModelSerializer, StrictSerializer
from leads.models import (
    Activity,
    ActivityKind,
    Company,
    CompanySize,
    CustomFieldDefinition,
    FieldType,
    Lead,
    LeadTag,
    Status,
)
from leads.utils import registered_domain

# ---------------------------------------------------------------- reading leads

# The columns a lead's JSON is made of, joined company and owner included.
LEAD_COLUMNS = (
    "id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "phone_raw",
    "title",
    "linkedin_url",
    "location",
    "source",
    "status",
    "score",
    "score_explanation",
    "custom_fields",
    "external_ids",
    "archived_at",
    "converted_at",
    "last_contacted_at",
    "created_at",
    "updated_at",
    "owner_id",
    "owner__email",
    "owner__name",
    "company_id",
    "company__name",
    "company__domain",
    "company__enriched_data",
)


def _iso(value: dt.datetime | None) -> str | None:
    """As DRF's DateTimeField writes it (UTC, "Z"), without a field object per value."""
    if value is None:
        return None
    text = value.astimezone(dt.UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _display_name(row: dict[str, Any]) -> str:
    full = " ".join(part for part in (row["first_name"], row["last_name"]) if part)
    return full or row["email"] or f"Lead #{row['id']}"


def lead_json(row: dict[str, Any], tags: list[str]) -> dict[str, Any]:
    """One `LEAD_COLUMNS` row as the API shows a lead (the LeadSerializer shape)."""
    owner_id = row["owner_id"]
    company_id = row["company_id"]
    return {
        "id": row["id"],
        "first_name": row["first_name"],
        "last_name": row["last_name"],
        "display_name": _display_name(row),
        "email": row["email"],
        "phone": row["phone"],
        "phone_raw": row["phone_raw"],
        "title": row["title"],
        "linkedin_url": row["linkedin_url"],
        "location": row["location"],
        "source": row["source"],
        "status": row["status"],
        "score": row["score"],
        "score_explanation": row["score_explanation"],
        "owner": {"id": owner_id, "email": row["owner__email"], "name": row["owner__name"]}
        if owner_id
        else None,
        "tags": tags,
        "company": {
            "id": company_id,
            "name": row["company__name"],
            "domain": row["company__domain"],
        }
        if company_id
        else None,
        "custom_fields": row["custom_fields"],
        "external_ids": row["external_ids"],
        "enriched_data": row["company__enriched_data"] if company_id else {},
        "archived_at": _iso(row["archived_at"]),
        "converted_at": _iso(row["converted_at"]),
        "last_contacted_at": _iso(row["last_contacted_at"]),
        "created_at": _iso(row["created_at"]),
        "updated_at": _iso(row["updated_at"]),
    }


# Joins a lead's tag names in one column. Tag names cannot hold it: they are stored with
# their whitespace collapsed (services._tags_named), and str.split() counts \x1f as space.
TAG_SEPARATOR = "\x1f"


def lead_values(qs: QuerySet, organization) -> QuerySet:
    """`LEAD_COLUMNS` rows plus `tag_names` (joined by TAG_SEPARATOR) from a correlated
    subquery: a page of leads is one query whatever its size."""
    tag_names = (
        LeadTag.objects.for_org(organization)
        .filter(lead_id=OuterRef("pk"))
        .order_by()
        .values("lead_id")
        .annotate(names=StringAgg("tag__name", Value(TAG_SEPARATOR)))
        .values("names")
    )
    return qs.annotate(tag_names=Subquery(tag_names)).values(*LEAD_COLUMNS, "tag_names")


def lead_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """API JSON for `lead_values()` rows, in their order."""
    # Tags sorted here: SQLite cannot order inside an aggregate.
    return [
        lead_json(
            row,
            sorted(row["tag_names"].split(TAG_SEPARATOR), key=str.casefold)
            if row["tag_names"]
            else [],
        )
        for row in rows
    ]


# ---------------------------------------------------------------- the list, in PostgreSQL

# The list's hot path (every active lead of the organization, or those of some statuses) on
# PostgreSQL: the database writes each row's JSON, in the `lead_json()` shape, and the count
# summed from the maintained per-status counts (leads.counts) rides along on every row, so
# a page is one query and no Python object per value. Only the tags stay in Python, for
# `lead_rows()`'s case-insensitive order (str.casefold, which SQL has no equal of).


def _pg_iso(column: str) -> str:
    """The timestamp as `_iso()` writes it: UTC with "Z", microseconds only when non-zero."""
    utc = f"({column} AT TIME ZONE 'UTC')"
    return (
        f"to_char({utc}, CASE WHEN to_char({utc}, 'US') = '000000'"
        """ THEN 'YYYY-MM-DD"T"HH24:MI:SS"Z"' ELSE 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"' END)"""
    )


def _pg_object(pairs: list[tuple[str, str]]) -> str:
    return "json_build_object(" + ", ".join(f"'{key}', {sql}" for key, sql in pairs) + ")"


# lead_json()'s keys in its order, split around "tags" (put in by Python).
_PG_BEFORE_TAGS = [
    ("id", "l.id"),
    ("first_name", "l.first_name"),
    ("last_name", "l.last_name"),
    (
        "display_name",
        "COALESCE(NULLIF(CONCAT_WS(' ', NULLIF(l.first_name, ''), NULLIF(l.last_name, '')),"
        " ''), NULLIF(l.email, ''), 'Lead #' || l.id)",
    ),
    ("email", "l.email"),
    ("phone", "l.phone"),
    ("phone_raw", "l.phone_raw"),
    ("title", "l.title"),
    ("linkedin_url", "l.linkedin_url"),
    ("location", "l.location"),
    ("source", "l.source"),
    ("status", "l.status"),
    ("score", "l.score"),
    ("score_explanation", "l.score_explanation"),
    (
        "owner",
        "CASE WHEN l.owner_id IS NULL THEN NULL ELSE "
        + _pg_object([("id", "l.owner_id"), ("email", "u.email"), ("name", "u.name")])
        + " END",
    ),
]
_PG_AFTER_TAGS = [
    (
        "company",
        "CASE WHEN l.company_id IS NULL THEN NULL ELSE "
        + _pg_object([("id", "l.company_id"), ("name", "c.name"), ("domain", "c.domain")])
        + " END",
    ),
    ("custom_fields", "l.custom_fields"),
    ("external_ids", "l.external_ids"),
    (
        "enriched_data",
        "CASE WHEN l.company_id IS NULL THEN '{}'::jsonb ELSE c.enriched_data END",
    ),
    ("archived_at", _pg_iso("l.archived_at")),
    ("converted_at", _pg_iso("l.converted_at")),
    ("last_contacted_at", _pg_iso("l.last_contacted_at")),
    ("created_at", _pg_iso("l.created_at")),
    ("updated_at", _pg_iso("l.updated_at")),
]

# Lead fields a page may be ordered by (the API's ordering fields and the id).
_PG_ORDERABLE = frozenset({"id", "created_at", "updated_at", "score", "last_name", "status"})


@functools.cache
def _pg_page_sql(ordering: tuple[str, ...], by_status: bool) -> str:
    if not pg_page_can_order(ordering):
        raise ValueError(f"Cannot order a page by {ordering}.")
    order = ", ".join(
        f"l.{term.lstrip('-')} {'DESC' if term.startswith('-') else 'ASC'}" for term in ordering
    )
    status = " AND l.status = ANY(%(statuses)s)" if by_status else ""
    count_status = " AND status = ANY(%(statuses)s)" if by_status else ""
    # Only constants and checked field names are written into the SQL.
    return (
        f"SELECT {_pg_object(_PG_BEFORE_TAGS)}::text, {_pg_object(_PG_AFTER_TAGS)}::text,"  # noqa: S608
        " (SELECT STRING_AGG(t.name, %(separator)s) FROM leads_leadtag lt"
        " JOIN leads_tag t ON t.id = lt.tag_id"
        " WHERE lt.organization_id = %(org)s AND lt.lead_id = l.id),"
        " (SELECT COALESCE(SUM(n), 0) FROM leads_leadcount"
        f" WHERE organization_id = %(org)s{count_status}),"
        " (SELECT COUNT(*) FROM leads_leadcount WHERE organization_id = %(org)s)"
        " FROM (SELECT * FROM leads_lead l WHERE l.organization_id = %(org)s"
        f" AND l.archived_at IS NULL{status} ORDER BY {order} LIMIT %(limit)s OFFSET %(offset)s) l"
        " LEFT JOIN accounts_user u ON u.id = l.owner_id"
        " LEFT JOIN leads_company c ON c.id = l.company_id"
        f" ORDER BY {order}"
    )


def pg_page_can_order(ordering: tuple[str, ...]) -> bool:
    return bool(ordering) and all(term.lstrip("-") in _PG_ORDERABLE for term in ordering)


def pg_lead_page(
    organization_id: int,
    *,
    statuses: list[str],
    ordering: tuple[str, ...],
    limit: int,
    offset: int,
) -> tuple[list[str], int | None, int]:
    """PostgreSQL only. The JSON text of a page of the organization's active leads (of
    `statuses`, or all), in `lead_rows()`'s shape, as ordered by `ordering` (field names,
    "-" for descending, checked by `pg_page_can_order`); with the count of those leads
    from leads.counts and the number of count rows there (None, 0 on an empty page)."""
    params = {
        "org": organization_id,
        "statuses": list(statuses),
        "separator": TAG_SEPARATOR,
        "limit": limit,
        "offset": offset,
    }
    with connection.cursor() as cursor:
        cursor.execute(_pg_page_sql(tuple(ordering), bool(statuses)), params)
        fetched = cursor.fetchall()
    if not fetched:
        return [], None, 0
    rows = []
    for before, after, tag_names, _count, _count_rows in fetched:
        tags = sorted(tag_names.split(TAG_SEPARATOR), key=str.casefold) if tag_names else []
        rows.append(f'{before[:-1]}, "tags" : {json.dumps(tags, ensure_ascii=False)}, {after[1:]}')
    return rows, fetched[0][3], fetched[0][4]


def read_lead(organization, pk: int) -> dict[str, Any]:
    """The API JSON of one lead of the organization (one query)."""
    row = lead_values(Lead.objects.for_org(organization).filter(pk=pk), organization).get()
    return lead_rows([row])[0]


# ---------------------------------------------------------------- documenting leads


class UserRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    name = serializers.CharField()


class CompanyRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    domain = serializers.CharField()


class ScoreRuleSerializer(serializers.Serializer):
    rule = serializers.CharField()
    points = serializers.IntegerField()
    matched = serializers.BooleanField()


class LeadSerializer(serializers.Serializer):
    """A lead as every endpoint answers it; built by `lead_json()` (see the module doc)."""

    id = serializers.IntegerField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    display_name = serializers.CharField(help_text="The full name, else the email.")
    email = serializers.EmailField(allow_blank=True)
    phone = serializers.CharField(help_text="E.164 when the number could be parsed, else empty.")
    phone_raw = serializers.CharField(help_text="The phone number as it was given.")
    title = serializers.CharField()
    linkedin_url = serializers.CharField()
    location = serializers.CharField()
    source = serializers.CharField()
    status = NamedChoiceField(enum_name="LeadStatus", choices=Status.choices)
    score = serializers.IntegerField(min_value=0, max_value=100)
    score_explanation = ScoreRuleSerializer(many=True)
    owner = UserRefSerializer(allow_null=True)
    tags = serializers.ListField(child=serializers.CharField())
    company = CompanyRefSerializer(allow_null=True)
    custom_fields = serializers.DictField(help_text="Values of the organization's custom fields.")
    external_ids = serializers.DictField(
        child=serializers.CharField(), help_text='Ids in other systems: {"hubspot": "123"}.'
    )
    enriched_data = serializers.DictField(help_text="The company's enriched profile; {} without.")
    archived_at = serializers.DateTimeField(allow_null=True)
    converted_at = serializers.DateTimeField(allow_null=True)
    last_contacted_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def to_representation(self, instance: dict[str, Any]) -> dict[str, Any]:
        # Already the API shape (lead_rows); nothing to convert.
        return instance


# ---------------------------------------------------------------- writing leads


def _check_json_text(value: Any, path: str = "") -> None:
    """PostgreSQL's jsonb refuses NUL characters: refuse them here, as a 400."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str) and "\x00" in item:
            raise serializers.ValidationError("Null characters are not allowed.")
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def check_linkedin_url(value: str) -> str:
    if not value:
        return value
    host = (urlsplit(value).hostname or "").lower()
    if host != "linkedin.com" and not host.endswith(".linkedin.com"):
        raise serializers.ValidationError("Give a linkedin.com address.")
    return value


_URL = URLValidator(schemes=["http", "https"])


def _custom_value(definition: CustomFieldDefinition, value: Any) -> Any:
    """The value checked against its field type (None clears the field)."""
    kind = definition.field_type
    if value is None:
        return None
    if kind == FieldType.NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise serializers.ValidationError(f"{definition.key}: give a number.")
        return value
    if kind == FieldType.BOOLEAN:
        if not isinstance(value, bool):
            raise serializers.ValidationError(f"{definition.key}: give true or false.")
        return value
    if not isinstance(value, str):
        raise serializers.ValidationError(f"{definition.key}: give text.")
    if len(value) > 1000:
        raise serializers.ValidationError(f"{definition.key}: at most 1,000 characters.")
    if kind == FieldType.DATE:
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            raise serializers.ValidationError(
                f"{definition.key}: give a date as YYYY-MM-DD."
            ) from None
    elif kind == FieldType.CHOICE:
        if value not in definition.choices:
            raise serializers.ValidationError(
                f"{definition.key}: choose one of {', '.join(map(str, definition.choices))}."
            )
    elif kind == FieldType.URL:
        try:
            _URL(value)
        except DjangoValidationError:
            raise serializers.ValidationError(f"{definition.key}: give a web address.") from None
    return value


class LeadWriteSerializer(StrictModelSerializer):
    """What a client sends to create or change a lead. The status may be given on create;
    afterwards a change of status goes through the pipeline (recorded on the timeline)."""

    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    phone = serializers.CharField(
        max_length=50,
        required=False,
        allow_blank=True,
        help_text="Any common format; stored as E.164 when it parses, as given in phone_raw.",
    )
    linkedin_url = serializers.URLField(max_length=500, required=False, allow_blank=True)
    status = NamedChoiceField(enum_name="LeadStatus", choices=Status.choices, required=False)
    company = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text="A company name: the organization's company of that name (or of the "
        "email's domain) is used, else one is created. Empty: no company.",
    )
    company_id = serializers.IntegerField(
        required=False, allow_null=True, help_text="One of the organization's companies."
    )
    owner_id = serializers.IntegerField(
        required=False, allow_null=True, help_text="The user id of a member; null unassigns."
    )
    tags = serializers.ListField(
        child=serializers.CharField(max_length=50),
        max_length=50,
        required=False,
        help_text="Tag names (created as needed). On update, the lead's tags become these.",
    )
    custom_fields = serializers.DictField(
        required=False,
        help_text="Keys of the organization's custom field definitions. PATCH merges "
        "(null removes a key); PUT replaces.",
    )
    external_ids = serializers.DictField(
        child=serializers.CharField(max_length=200, allow_null=True),
        required=False,
        help_text='Ids in other systems, {"hubspot": "123"}. PATCH merges (null removes a key).',
    )

    class Meta:
        model = Lead
        fields = [
            "first_name",
            "last_name",
            "email",
            "phone",
            "title",
            "linkedin_url",
            "location",
            "source",
            "status",
            "company",
            "company_id",
            "owner_id",
            "tags",
            "custom_fields",
            "external_ids",
        ]

    @property
    def organization(self):
        return self.context["organization"]

    def validate_email(self, value: str) -> str:
        return value.strip().lower()

    def validate_linkedin_url(self, value: str) -> str:
        return check_linkedin_url(value)

    def validate_company_id(self, value: int | None) -> Company | None:
        if value is None:
            return None
        company = Company.objects.for_org(self.organization).filter(pk=value).first()
        if company is None:
            # The same answer for another organization's company and a missing one.
            raise serializers.ValidationError("No such company in this organization.")
        return company

    def validate_owner_id(self, value: int | None) -> User | None:
        if value is None:
            return None
        membership = (
            Membership.objects.for_org(self.organization)
            .filter(user_id=value)
            .select_related("user")
            .first()
        )
        if membership is None:
            raise serializers.ValidationError("No such member in this organization.")
        return membership.user

    def validate_tags(self, value: list[str]) -> list[str]:
        return [name for name in (" ".join(v.split()) for v in value) if name]

    def validate_custom_fields(self, value: dict[str, Any]) -> dict[str, Any]:
        _check_json_text(value)
        definitions = (
            {d.key: d for d in CustomFieldDefinition.objects.for_org(self.organization)}
            if value
            else {}
        )
        unknown = sorted(set(value) - set(definitions))
        if unknown:
            known = ", ".join(sorted(definitions)) or "none yet"
            raise serializers.ValidationError(
                f"Unknown custom fields: {', '.join(unknown)} (defined: {known})."
            )
        return {key: _custom_value(definitions[key], item) for key, item in value.items()}

    def validate_external_ids(self, value: dict[str, str | None]) -> dict[str, str | None]:
        _check_json_text(value)
        if len(value) > 50:
            raise serializers.ValidationError("At most 50 external ids.")
        if any(not key or len(key) > 50 for key in value):
            raise serializers.ValidationError("Name each system in 1 to 50 characters.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "company" in attrs and "company_id" in attrs:
            raise serializers.ValidationError(
                {"company": ["Give company (a name) or company_id, not both."]}
            )
        if self.instance is None or not self.partial:
            has_identity = any(attrs.get(f) for f in ("email", "first_name", "last_name"))
            if not has_identity:
                raise serializers.ValidationError(
                    {"email": ["Give at least an email address or a name."]}
                )
        return attrs


# ---------------------------------------------------------------- activities


class ActivitySerializer(serializers.ModelSerializer):
    kind = NamedChoiceField(enum_name="ActivityKind", choices=ActivityKind.choices)
    actor = UserRefSerializer(allow_null=True)
    data = serializers.DictField(help_text="Facts of the kind: from/to, changes, ...")

    class Meta:
        model = Activity
        fields = ["id", "kind", "actor", "body", "data", "occurred_at", "created_at"]
        read_only_fields = fields


LOGGABLE_KINDS = [
    (ActivityKind.NOTE.value, ActivityKind.NOTE.label),
    (ActivityKind.CALL.value, ActivityKind.CALL.label),
    (ActivityKind.MEETING.value, ActivityKind.MEETING.label),
]


class ActivityCreateSerializer(StrictSerializer):
    kind = NamedChoiceField(enum_name="LoggedActivityKind", choices=LOGGABLE_KINDS)
    body = serializers.CharField(max_length=20000)
    occurred_at = serializers.DateTimeField(
        required=False, help_text="When it happened; now when left out."
    )


# ---------------------------------------------------------------- bulk actions

BULK_MAX = 10_000


class BulkAction:
    STATUS = "status"
    OWNER = "owner"
    ADD_TAGS = "add_tags"
    REMOVE_TAGS = "remove_tags"
    ARCHIVE = "archive"
    RESTORE = "restore"
    CHOICES = [STATUS, OWNER, ADD_TAGS, REMOVE_TAGS, ARCHIVE, RESTORE]


class BulkSerializer(StrictSerializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        max_length=BULK_MAX,
        help_text=f"Lead ids, at most {BULK_MAX:,}.",
    )
    filter = serializers.DictField(
        required=False,
        help_text="Instead of ids: the list filters (status, owner, tag, source, q, "
        f"score_min, ...) as an object; at most {BULK_MAX:,} leads may match.",
    )
    action = NamedChoiceField(enum_name="BulkAction", choices=BulkAction.CHOICES)
    value = serializers.JSONField(
        required=False,
        allow_null=True,
        help_text="status: a status; owner: a member's user id or null; add_tags and "
        "remove_tags: a list of tag names; archive and restore: nothing.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("ids" in attrs) == ("filter" in attrs):
            raise serializers.ValidationError({"ids": ["Give either ids or filter."]})
        action, value = attrs["action"], attrs.get("value")
        if action == BulkAction.STATUS:
            if value not in Status.values:
                raise serializers.ValidationError(
                    {"value": [f"Give a status: {', '.join(Status.values)}."]}
                )
        elif action == BulkAction.OWNER:
            if value is not None:
                if isinstance(value, bool) or not isinstance(value, int):
                    raise serializers.ValidationError({"value": ["Give a user id or null."]})
                membership = (
                    Membership.objects.for_org(self.context["organization"])
                    .filter(user_id=value)
                    .select_related("user")
                    .first()
                )
                if membership is None:
                    raise serializers.ValidationError(
                        {"value": ["No such member in this organization."]}
                    )
                attrs["value"] = membership.user
        elif action in (BulkAction.ADD_TAGS, BulkAction.REMOVE_TAGS):
            if (
                not isinstance(value, list)
                or not value
                or len(value) > 50
                or not all(isinstance(v, str) and v.strip() and len(v) <= 50 for v in value)
            ):
                raise serializers.ValidationError(
                    {"value": ["Give a list of 1 to 50 tag names (50 characters at most)."]}
                )
            _check_json_text(value)
        elif value is not None:
            raise serializers.ValidationError({"value": [f"{action} takes no value."]})
        return attrs


class BulkConflictSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    existing_id = serializers.IntegerField(help_text="The active lead that has this email.")


class BulkResultSerializer(serializers.Serializer):
    action = serializers.CharField()
    matched = serializers.IntegerField(help_text="Leads selected.")
    updated = serializers.IntegerField(help_text="Leads changed.")
    unchanged = serializers.IntegerField(help_text="Leads already so (or in conflict).")
    not_found = serializers.ListField(
        child=serializers.IntegerField(), help_text="Ids that are not leads of this organization."
    )
    conflicts = BulkConflictSerializer(
        many=True, help_text="restore: leads left archived, their email is taken."
    )


class MessageSerializer(serializers.Serializer):
    message = serializers.CharField()


# ---------------------------------------------------------------- companies


class CompanySerializer(serializers.ModelSerializer):
    size_range = NamedChoiceField(
        enum_name="CompanySize", choices=CompanySize.choices, allow_blank=True
    )
    lead_count = serializers.IntegerField(read_only=True, help_text="Active leads at this company.")
    enriched_data = serializers.DictField(read_only=True)
    external_ids = serializers.DictField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Company
        fields = [
            "id",
            "name",
            "domain",
            "website",
            "industry",
            "size_range",
            "location",
            "description",
            "linkedin_url",
            "enriched_data",
            "external_ids",
            "lead_count",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class CompanyWriteSerializer(StrictModelSerializer):
    size_range = NamedChoiceField(
        enum_name="CompanySize", choices=CompanySize.choices, allow_blank=True, required=False
    )
    domain = serializers.CharField(
        max_length=253,
        required=False,
        allow_blank=True,
        help_text="A domain, URL or email address: stored as the registered domain "
        "(https://www.acme.co.uk/about -> acme.co.uk), unique in the organization.",
    )
    external_ids = serializers.DictField(
        child=serializers.CharField(max_length=200, allow_null=True), required=False
    )

    class Meta:
        model = Company
        fields = [
            "name",
            "domain",
            "website",
            "industry",
            "size_range",
            "location",
            "description",
            "linkedin_url",
            "external_ids",
        ]

    def validate_domain(self, value: str) -> str:
        if not value.strip():
            return ""
        domain = registered_domain(value)
        if not domain:
            raise serializers.ValidationError("Give a domain such as acme.com.")
        return domain

    def validate_linkedin_url(self, value: str) -> str:
        return check_linkedin_url(value)

    def validate_external_ids(self, value: dict[str, Any]) -> dict[str, Any]:
        _check_json_text(value)
        if len(value) > 50 or any(not key or len(key) > 50 for key in value):
            raise serializers.ValidationError(
                "At most 50 ids, each system named in 1-50 characters."
            )
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # Without a domain, the website names it.
        if (
            not attrs.get("domain")
            and attrs.get("website")
            and not (self.instance is not None and self.instance.domain and "domain" not in attrs)
        ):
            attrs["domain"] = registered_domain(attrs["website"])
        return attrs
