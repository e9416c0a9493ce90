"""Lead exports to CSV or JSON, streamed: rows are read in chunks and written as they come,
so an export of 100,000 leads never holds them all in memory."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from leads.models import CustomFieldDefinition, LeadTag

CHUNK_SIZE = 2000
FORMATS = ("csv", "json")

# (column, values() path) in export order.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "id"),
    ("first_name", "first_name"),
    ("last_name", "last_name"),
    ("email", "email"),
    ("phone", "phone"),
    ("phone_raw", "phone_raw"),
    ("title", "title"),
    ("company_name", "company__name"),
    ("company_domain", "company__domain"),
    ("linkedin_url", "linkedin_url"),
    ("location", "location"),
    ("source", "source"),
    ("status", "status"),
    ("score", "score"),
    ("owner_email", "owner__email"),
    ("external_ids", "external_ids"),
    ("archived_at", "archived_at"),
    ("converted_at", "converted_at"),
    ("last_contacted_at", "last_contacted_at"),
    ("created_at", "created_at"),
    ("updated_at", "updated_at"),
)
# Spreadsheets run a cell starting with these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralize(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula gets a leading single quote."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False) if value else ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def rows(queryset: QuerySet, organization) -> Iterator[dict[str, Any]]:
    """Each lead of `queryset` as a flat dict: its fields, company name and domain, owner
    email, tags (a list) and custom fields (a dict). Reads CHUNK_SIZE leads at a time and
    their tags with one query per chunk."""
    paths = [path for _column, path in COLUMNS]
    values = queryset.order_by("pk").values(*paths, "custom_fields").iterator(chunk_size=CHUNK_SIZE)
    batch: list[dict[str, Any]] = []
    for row in values:
        batch.append(row)
        if len(batch) >= CHUNK_SIZE:
            yield from _with_tags(batch, organization)
            batch = []
    if batch:
        yield from _with_tags(batch, organization)


def _with_tags(batch: list[dict[str, Any]], organization) -> Iterator[dict[str, Any]]:
    tags: dict[int, list[str]] = {}
    for lead_id, name in (
        LeadTag.objects.for_org(organization)
        .filter(lead_id__in=[row["id"] for row in batch])
        .order_by("tag__name")
        .values_list("lead_id", "tag__name")
    ):
        tags.setdefault(lead_id, []).append(name)
    for row in batch:
        out = {column: row[path] for column, path in COLUMNS}
        out["tags"] = tags.get(row["id"], [])
        out["custom_fields"] = row["custom_fields"] or {}
        yield out


def custom_field_keys(organization) -> list[str]:
    return list(
        CustomFieldDefinition.objects.for_org(organization)
        .order_by("key")
        .values_list("key", flat=True)
    )


class Echo:
    """A file-like object whose write() returns the line, for csv.writer in a generator."""

    def write(self, value: str) -> str:
        return value


def csv_chunks(queryset: QuerySet, organization) -> Iterator[str]:
    """The CSV text, piece by piece: a UTF-8 BOM (Excel reads the file as UTF-8), the
    header, one line per lead. Custom fields are `custom.<key>` columns, tags are joined."""
    keys = custom_field_keys(organization)
    writer = csv.writer(Echo())
    header = [column for column, _path in COLUMNS] + ["tags"] + [f"custom.{k}" for k in keys]
    yield "\ufeff" + writer.writerow(header)
    for row in rows(queryset, organization):
        custom = row["custom_fields"] if isinstance(row["custom_fields"], dict) else {}
        cells = [_cell(row[column]) for column, _path in COLUMNS]
        cells.append(", ".join(row["tags"]))
        cells.extend(_cell(custom.get(key)) for key in keys)
        yield writer.writerow([neutralize(cell) for cell in cells])


def json_chunks(queryset: QuerySet, organization) -> Iterator[str]:
    """A JSON array of lead objects, written one object at a time."""
    yield "["
    first = True
    for row in rows(queryset, organization):
        yield ("" if first else ",") + "\n" + json.dumps(row, cls=DjangoJSONEncoder)
        first = False
    yield "\n]\n"


def _encoded(chunks: Iterable[str]) -> Iterator[bytes]:
    for chunk in chunks:
        yield chunk.encode("utf-8")


def export_response(queryset: QuerySet, organization, fmt: str) -> StreamingHttpResponse:
    """A streamed download of `queryset` (already scoped and filtered) as `fmt`."""
    if fmt not in FORMATS:
        raise ValueError(f"Unknown export format {fmt!r}")
    stamp = timezone.localdate().isoformat()
    if fmt == "csv":
        response = StreamingHttpResponse(
            _encoded(csv_chunks(queryset, organization)), content_type="text/csv; charset=utf-8"
        )
    else:
        response = StreamingHttpResponse(
            _encoded(json_chunks(queryset, organization)), content_type="application/json"
        )
    filename = f"leads-{organization.slug}-{stamp}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
