"""A batch of parsed rows against the database: decide (duplicates, suppression) in a few
queries, then write in bulk (leads, companies, tags, activities, import changes, row errors).

The rules are create_lead's and find_or_create_company's, done for a thousand rows at once.
"""

from __future__ import annotations

import io
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from operator import itemgetter
from typing import Any

import psycopg
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, transaction
from django.db.models import DateTimeField, JSONField
from django.utils import timezone
from psycopg.copy import FileWriter

from leads import scoring, services
from leads.importing.rows import SKIPPED_PREFIX, ParsedRow
from leads.models import (
    Activity,
    ActivityKind,
    Company,
    DuplicatePolicy,
    ImportChange,
    ImportJob,
    ImportRowError,
    Lead,
    LeadTag,
    Status,
)

# ImportChange.previous key for the tags an update added (removed again by a revert).
TAGS_ADDED = "_tags_added"


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    skipped: int = 0
    failed: int = 0

    def add(self, other: Counts) -> None:
        self.created += other.created
        self.updated += other.updated
        self.skipped += other.skipped
        self.failed += other.failed

    @property
    def total(self) -> int:
        return self.created + self.updated + self.skipped + self.failed


def _postgres() -> bool:
    return connections[DEFAULT_DB_ALIAS].vendor == "postgresql"


def _one_of(column: str, values, params: list) -> str:
    """SQL for `column` equal to one of `values` (not empty), its parameters added to
    `params`: one array parameter on PostgreSQL, so the query text stays short however many
    values there are; an IN list elsewhere."""
    values = list(values)
    if _postgres():
        array, param = _pg_array(values)
        params.append(param)
        return f"{column} = ANY({array})"
    params.extend(values)
    return f"{column} IN ({', '.join(['%s'] * len(values))})"


def _pg_array(values: list[str]) -> tuple[str, str | list[str]]:
    """SQL for a text[] of `values` and its parameter: the strings joined by newlines and
    split again by the server (the client quotes one string instead of adapting thousands
    of array elements), or psycopg's array when a value is empty or holds a newline."""
    joined = "\n".join(values)
    if all(values) and joined.count("\n") == len(values) - 1:
        return "string_to_array(%s, E'\\n')", joined
    return "%s::text[]", values


def _fetch(sql: str, params: list) -> list[tuple]:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _suppressed(org_id: int, emails: set[str]) -> set[str]:
    params: list = [org_id]
    where = _one_of("email", emails, params)
    sql = f"SELECT email FROM leads_suppression WHERE organization_id = %s AND {where}"  # noqa: S608 (placeholders)
    return {email for (email,) in _fetch(sql, params)}


def _active_by_email(org_id: int, emails: set[str]) -> dict[str, int]:
    """{email: id} of the organization's active leads with one of these emails (at most one
    each: an email belongs to one active lead)."""
    if _postgres():
        array, param = _pg_array(list(emails))
        # One probe of the (organization, email) index per email, whatever the planner
        # believes of a table nobody has analyzed: a plain `email = ANY(...)` is planned as
        # a scan of every lead of the organization once its statistics are stale.
        sql = (
            f"SELECT found.id, found.email FROM unnest({array}) AS wanted(email) "  # noqa: S608 (placeholders)
            "CROSS JOIN LATERAL (SELECT id, email FROM leads_lead "
            "WHERE organization_id = %s AND archived_at IS NULL AND email = wanted.email "
            "LIMIT 1) AS found"
        )
        params: list = [param, org_id]
    else:
        params = [org_id]
        where = _one_of("email", emails, params)
        sql = (
            "SELECT id, email FROM leads_lead "  # noqa: S608 (placeholders)
            f"WHERE organization_id = %s AND archived_at IS NULL AND {where}"
        )
    return {email: pk for pk, email in _fetch(sql, params)}


def _active_by_name(
    org_id: int, rows: list[ParsedRow], *, without_email: bool
) -> dict[tuple[str, str, str], tuple[int, str]]:
    """{(lower first, lower last, company domain): (id, email)} of the organization's active
    leads whose company has one of the rows' domains, the lowest id first."""
    params: list = [org_id]
    where = [
        _one_of("c.domain", {row.domain for row in rows}, params),
        _one_of("lower(l.first_name)", {row.name_key[0] for row in rows}, params),
        _one_of("lower(l.last_name)", {row.name_key[1] for row in rows}, params),
    ]
    if without_email:
        # A row with an email matches by name only a lead that has none.
        where.append("l.email = ''")
    sql = (
        "SELECT l.id, l.email, lower(l.first_name), lower(l.last_name), c.domain "
        "FROM leads_lead l INNER JOIN leads_company c ON c.id = l.company_id "
        "WHERE l.organization_id = %s AND l.archived_at IS NULL AND "
        + " AND ".join(where)
        + " ORDER BY l.id"
    )
    found: dict[tuple[str, str, str], tuple[int, str]] = {}
    for pk, email, first, last, domain in _fetch(sql, params):
        found.setdefault((first, last, domain), (pk, email))
    return found


def decide(job: ImportJob, rows: list[ParsedRow]) -> None:
    """Set each importable row's action: create, update, or skip with the reason. Rows in
    one call must not share an email or a name key (the runner splits batches there).
    Three queries at most, of ids and keys: suppressions, leads by email, leads by name
    and domain; a fourth reads the leads to update when the policy is update."""
    org_id = job.organization_id
    pending = [row for row in rows if not row.action]
    emails = {row.email for row in pending if row.email}
    suppressed = _suppressed(org_id, emails) if emails else set()
    by_email = _active_by_email(org_id, emails - suppressed) if emails - suppressed else {}
    name_rows = [
        row
        for row in pending
        if row.name_key and row.email not in suppressed and row.email not in by_email
    ]
    by_name = (
        _active_by_name(org_id, name_rows, without_email=all(row.email for row in name_rows))
        if name_rows
        else {}
    )
    matches: list[tuple[ParsedRow, int, str]] = []
    for row in pending:
        if row.email and row.email in suppressed:
            row.skip(
                f"{SKIPPED_PREFIX}{row.email} is on the suppression list (unsubscribed, "
                "bounced or erased), so it is never imported again"
            )
            continue
        lead_id, matched = by_email.get(row.email) if row.email else None, "email address"
        if lead_id is None and row.name_key:
            candidate = by_name.get(row.name_key)
            # A different email on both sides means two people who share a name.
            if candidate is not None and not (row.email and candidate[1]):
                lead_id, matched = candidate[0], "name and company domain"
        if lead_id is None:
            row.action = "create"
        else:
            matches.append((row, lead_id, matched))
    if job.on_duplicate == DuplicatePolicy.UPDATE:
        leads = Lead.objects.in_bulk([lead_id for _row, lead_id, _matched in matches])
    for row, lead_id, matched in matches:
        if job.on_duplicate == DuplicatePolicy.UPDATE:
            lead = leads.get(lead_id)
            if lead is None:  # deleted since the lookup
                row.action = "create"
            else:
                row.action, row.existing = "update", lead
        elif job.on_duplicate == DuplicatePolicy.CREATE and matched != "email address":
            row.action = "create"
        elif job.on_duplicate == DuplicatePolicy.CREATE:
            row.skip(
                f"{SKIPPED_PREFIX}lead #{lead_id} already has this email address, and an email "
                "belongs to one active lead only"
            )
        else:
            row.skip(f"{SKIPPED_PREFIX}already in Prospector as lead #{lead_id} (same {matched})")


@dataclass
class CompanyCache:
    """Company ids by domain that a job's run has resolved: later chunks skip the lookup.
    What a chunk learns counts only once its transaction has committed."""

    known: dict[str, int] = field(default_factory=dict)
    pending: dict[str, int] = field(default_factory=dict)
    limit: int = 100_000

    def get(self, domain: str) -> int | None:
        return self.known.get(domain) or self.pending.get(domain)

    def committed(self) -> None:
        if len(self.known) < self.limit:
            self.known |= self.pending
        self.pending = {}

    def rolled_back(self, *, forget: bool = False) -> None:
        self.pending = {}
        if forget:  # a company may have gone meanwhile
            self.known.clear()


def company_cache(job: ImportJob) -> CompanyCache:
    """The cache of this ImportJob instance (one run of the task)."""
    return job.__dict__.setdefault("_import_company_cache", CompanyCache())


def resolve_companies(job: ImportJob, rows: list[ParsedRow]) -> None:
    """Set `company_id` on rows that create a lead (or update one without a company): the
    company with the row's domain, else with its name, created when missing. A company
    known by name only learns the domain, as find_or_create_company does."""
    org = job.organization
    cache = company_cache(job)
    wanted = []
    for row in rows:
        if (
            row.action == "create" or (row.action == "update" and not row.existing.company_id)
        ) and (row.domain or row.company_name):
            known = cache.get(row.domain) if row.domain else None
            if known is None:
                wanted.append(row)
            else:
                row.company_id = known
    if not wanted:
        return
    domains = {row.domain for row in wanted if row.domain}
    by_domain = _company_ids(org.pk, domains) if domains else {}
    # A name is needed only where the domain found no company.
    names = {
        row.company_name.lower()
        for row in wanted
        if row.company_name and row.domain not in by_domain
    }
    by_name = _companies_by_name(org.pk, names) if names else {}
    new: dict[str, Company] = {}
    for row in wanted:
        if not row.domain or row.domain in by_domain or row.domain in new:
            continue
        key = row.company_name.lower()
        named = by_name.get(key) if row.company_name else None
        if named is not None and not named[1]:
            company = Company.objects.for_org(org).get(pk=named[0])
            company.domain = row.domain
            company.website = company.website or row.website or f"https://{row.domain}"
            try:
                with transaction.atomic():
                    company.save(update_fields=["domain", "website", "updated_at"])
                by_domain[row.domain] = company.pk
                by_name[key] = (company.pk, row.domain)
                continue
            except IntegrityError:  # the domain was taken meanwhile: use that company
                pass
        new[row.domain] = _new_company(org, row, row.company_name or row.domain, row.domain)
    if new:
        _create_companies_ignoring_conflicts(list(new.values()))
        by_domain |= _company_ids(org.pk, new)
    cache.pending |= {domain: pk for domain, pk in by_domain.items() if pk is not None}
    named_new: dict[str, Company] = {}
    for row in wanted:
        if row.domain:
            row.company_id = by_domain.get(row.domain)
            continue
        key = row.company_name.lower()
        if key in by_name:
            row.company_id = by_name[key][0]
        else:
            named_new.setdefault(key, _new_company(org, row, row.company_name, ""))
    if named_new:
        Company.objects.bulk_create(named_new.values())
        for row in wanted:
            if not row.domain and row.company_id is None:
                row.company_id = named_new[row.company_name.lower()].pk


def _company_ids(org_id: int, domains) -> dict[str, int]:
    params: list = [org_id]
    where = _one_of("domain", domains, params)
    sql = f"SELECT domain, id FROM leads_company WHERE organization_id = %s AND {where}"  # noqa: S608 (placeholders)
    return dict(_fetch(sql, params))


def _companies_by_name(org_id: int, names: set[str]) -> dict[str, tuple[int, str]]:
    """{lower name: (id, domain)} of the organization's companies with one of these names,
    in the model's order (name, id), one without a domain preferred."""
    params: list = [org_id]
    where = _one_of("lower(name)", names, params)
    sql = (
        "SELECT id, lower(name), domain FROM leads_company "  # noqa: S608 (placeholders)
        f"WHERE organization_id = %s AND {where} ORDER BY name, id"
    )
    found: dict[str, tuple[int, str]] = {}
    for pk, name, domain in _fetch(sql, params):
        known = found.get(name)
        if known is None or (known[1] and not domain):
            found[name] = (pk, domain)
    return found


# Every column of a company but its id, and the fields that fill them.
_COMPANY_FIELDS = [f for f in Company._meta.concrete_fields if not f.primary_key]


def _create_companies_ignoring_conflicts(companies: list[Company]) -> None:
    """bulk_create(ignore_conflicts=True). On PostgreSQL one INSERT of a JSON array of rows:
    one json.dumps instead of Django preparing and psycopg quoting every value."""
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "postgresql":
        Company.objects.bulk_create(companies, ignore_conflicts=True)
        return
    now = timezone.now().isoformat()
    rows = []
    for company in companies:
        values = {}
        for f in _COMPANY_FIELDS:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                values[f.column] = now
            else:
                value = getattr(company, f.attname)
                values[f.column] = value.isoformat() if isinstance(value, datetime) else value
        rows.append(values)
    table = connection.ops.quote_name(Company._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in _COMPANY_FIELDS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} "  # noqa: S608 (names from the model)
            f"FROM json_populate_recordset(NULL::{table}, %s) ON CONFLICT DO NOTHING",
            [json.dumps(rows)],
        )


def _new_company(org, row: ParsedRow, name: str, domain: str) -> Company:
    return Company(
        organization=org,
        name=name[:200],
        domain=domain,
        website=row.website or (f"https://{domain}" if domain else ""),
        industry=row.industry,
        size_range=row.company_size,
    )


class JsonText(str):
    """A JSONField value already serialized (insert_rows passes it to COPY as it is)."""


def _activity(job: ImportJob, lead_id: int, row: ParsedRow, action: str, now, changes=None):
    """An IMPORT activity as a row of ACTIVITY_COLUMNS."""
    if changes:
        data: Any = {
            "import_id": job.pk,
            "file": job.original_filename,
            "line": row.line,
            "action": action,
            "changes": changes,
        }
    else:
        # json.dumps of {"import_id", "file", "line", "action"}, the constant parts once.
        head = job.__dict__.get("_import_activity_head")
        if head is None:
            head = json.dumps({"import_id": job.pk, "file": job.original_filename})[:-1]
            job.__dict__["_import_activity_head"] = head
        data = JsonText(f'{head}, "line": {row.line:d}, "action": {json.dumps(action)}}}')
    return (
        job.organization_id,
        lead_id,
        ActivityKind.IMPORT.value,
        job.created_by_id,
        f"Imported from {job.original_filename}, line {row.line}",
        data,
        now,
        now,
    )


ACTIVITY_COLUMNS = (
    "organization_id", "lead_id", "kind", "actor_id", "body", "data", "occurred_at", "created_at",
)  # fmt: skip
CHANGE_COLUMNS = ("organization_id", "job_id", "lead_id", "action", "previous", "lead_ids")
ERROR_COLUMNS = ("organization_id", "job_id", "line_number", "reason", "row")
# Every column of a lead but its id, in the model's order.
LEAD_COLUMNS = tuple(f.attname for f in Lead._meta.concrete_fields if not f.primary_key)
# A lead's values as a row of LEAD_COLUMNS.
_lead_row = itemgetter(*LEAD_COLUMNS)


def _lead_defaults(now) -> dict[str, Any]:
    """What Lead() would hold before the row's values: each field's default, the times now."""
    values = {}
    for f in Lead._meta.concrete_fields:
        if f.primary_key:
            continue
        if getattr(f, "auto_now", False) or f.attname == "created_at":
            values[f.attname] = now
        else:
            values[f.attname] = f.get_default()
    return values


def _update_lead(lead: Lead, row: ParsedRow) -> tuple[dict[str, Any], dict[str, list]]:
    """Apply the row's non-empty values; returns (previous values, changes for the timeline)."""
    previous: dict[str, Any] = {}
    changes: dict[str, list] = {}
    for name, value in row.fields.items():
        # A status moves only through leads.services.set_status (timeline, event): a file
        # gives new leads their starting stage, never moves existing ones.
        if name in ("phone_raw", "status") or (value in ("", {}, None) and name != "phone"):
            continue
        old = getattr(lead, name)
        if name == "phone":
            raw = row.fields.get("phone_raw", "")
            if not raw or (value == lead.phone and raw == lead.phone_raw):
                continue
            previous |= {"phone": lead.phone, "phone_raw": lead.phone_raw}
            changes["phone"] = [lead.phone or lead.phone_raw, value or raw]
            lead.phone, lead.phone_raw = value, raw
            continue
        new = {**old, **value} if name in ("custom_fields", "external_ids") else value
        if new == old:
            continue
        previous[name] = old
        changes[name] = [old, new]
        setattr(lead, name, new)
    if not lead.company_id and row.company_id:
        previous["company"] = None
        changes["company"] = [None, row.company_id]
        lead.company_id = row.company_id
    return previous, changes


def write(job: ImportJob, rows: list[ParsedRow], tags: list[str]) -> Counts:
    """Write the decided rows. Run inside the chunk's transaction."""
    return apply_writes(job, prepare_writes(job, rows, tags))


@dataclass
class Writes:
    """A batch's writes, built by prepare_writes and carried out by apply_writes: the one
    reads the database and may create companies, the other writes the batch's own rows."""

    now: Any
    creates: list[ParsedRow]
    # Rows of LEAD_COLUMNS for `creates`, and the tags each of them gets.
    lead_rows: list[tuple]
    create_tags: list[tuple[str, ...]]
    updated: list[Lead]
    update_fields: list[str]
    update_tags: dict[tuple[str, ...], list[Lead]]
    update_activities: list[tuple]
    update_changes: list[tuple]
    errors: list[tuple]
    skipped: int
    failed: int
    # PostgreSQL: the new leads' ids, drawn from the sequence, and every row formatted for
    # COPY (leads first), so that apply_writes only sends them. None elsewhere: the insert
    # gives the ids.
    lead_ids: list[int] | None = None
    copies: list[CopyRows] | None = None


def prepare_writes(job: ImportJob, rows: list[ParsedRow], tags: list[str]) -> Writes:
    """Everything write() needs but the writing: companies resolved (created when missing),
    new leads as rows of column values (no model instances), updates applied to their leads
    in memory, the timeline entries, changes and row errors."""
    org = job.organization
    now = timezone.now()
    resolve_companies(job, rows)
    creates = [row for row in rows if row.action == "create"]
    defaults = _lead_defaults(now)
    defaults["organization_id"] = org.pk
    lead_values = [{**defaults, **row.fields, "company_id": row.company_id} for row in creates]
    for values in lead_values:  # a file's converted leads arrive converted
        if values.get("status") == Status.CONVERTED:
            values["converted_at"] = now
    profile = scoring.profile_for(org)
    scored = scoring.is_configured(profile)
    if scored and lead_values:
        scoring_leads = [
            Lead(organization=org, company_id=row.company_id, created_at=now, **row.fields)
            for row in creates
        ]
        _score(scoring_leads, profile)
        for values, lead in zip(lead_values, scoring_leads, strict=True):
            values["score"], values["score_explanation"] = lead.score, lead.score_explanation

    updates = [row for row in rows if row.action == "update"]
    existing_tags = _tag_names_of([row.existing for row in updates], org)
    updated: list[Lead] = []
    fields: set[str] = set()
    update_tags: dict[tuple[str, ...], list] = defaultdict(list)
    activities, changes = [], []
    for row in updates:
        lead = row.existing
        previous, timeline = _update_lead(lead, row)
        names = [
            name
            for name in dict.fromkeys([*tags, *row.tags])
            if name.lower() not in existing_tags.get(lead.pk, set())
        ]
        if not previous and not names:
            row.skip(f"{SKIPPED_PREFIX}lead #{lead.pk} already has these values")
            continue
        if names:
            previous[TAGS_ADDED] = names
            timeline["tags"] = [[], names]
            update_tags[tuple(names)].append(lead)
        fields.update(name for name in previous if name != TAGS_ADDED)
        lead.updated_at = now
        updated.append(lead)
        activities.append(_activity(job, lead.pk, row, "updated", now, _shown(timeline)))
        changes.append((org.pk, job.pk, lead.pk, "updated", previous, []))
    update_fields: list[str] = []
    if updated and fields:
        model_fields = {"company_id" if name == "company" else name for name in fields}
        if scored:
            _score(updated, profile)
            model_fields |= {"score", "score_explanation"}
        update_fields = [*sorted(model_fields), "updated_at"]
    writes = Writes(
        now=now,
        creates=creates,
        lead_rows=[_lead_row(values) for values in lead_values],
        create_tags=[tuple(dict.fromkeys([*tags, *row.tags])) for row in creates],
        updated=updated,
        update_fields=update_fields,
        update_tags=update_tags,
        update_activities=activities,
        update_changes=changes,
        errors=[
            (org.pk, job.pk, row.line, row.reason[:500], row.cells)
            for row in rows
            if row.action in ("skip", "fail")
        ],
        skipped=sum(1 for row in rows if row.action == "skip"),
        failed=sum(1 for row in rows if row.action == "fail"),
    )
    if _postgres():
        writes.lead_ids = new_ids(Lead, len(writes.lead_rows)) if writes.lead_rows else []
        activities, changes = _timeline_and_changes(job, writes, writes.lead_ids)
        writes.copies = [
            CopyRows(Lead, LEAD_COLUMNS, writes.lead_rows, writes.lead_ids),
            CopyRows(Activity, ACTIVITY_COLUMNS, activities),
            CopyRows(ImportChange, CHANGE_COLUMNS, changes),
            CopyRows(ImportRowError, ERROR_COLUMNS, writes.errors),
        ]
    return writes


def _timeline_and_changes(
    job: ImportJob, writes: Writes, lead_ids: list[int]
) -> tuple[list[tuple], list[tuple]]:
    """The batch's activities and import changes, the new leads' first."""
    activities = [
        _activity(job, lead_id, row, "created", writes.now)
        for lead_id, row in zip(lead_ids, writes.creates, strict=True)
    ]
    changes = []
    if lead_ids:
        # One row for all the leads this chunk created (see ImportChange.lead_ids).
        changes.append((job.organization_id, job.pk, None, "created", {}, list(lead_ids)))
    return activities + writes.update_activities, changes + writes.update_changes


def apply_writes(job: ImportJob, writes: Writes) -> Counts:
    """Write what prepare_writes built, inside the chunk's transaction: new leads,
    activities, import changes and row errors as rows of column values."""
    if writes.copies is None:
        lead_ids = insert_rows(Lead, LEAD_COLUMNS, writes.lead_rows, with_ids=True)
    else:
        lead_ids = writes.lead_ids or []
        writes.copies[0].send()
    tagged: dict[tuple[str, ...], list] = defaultdict(list)
    for lead_id, names in zip(lead_ids, writes.create_tags, strict=True):
        if names:
            tagged[names].append(Lead(pk=lead_id))
    for names, leads in writes.update_tags.items():
        tagged[names] += leads
    if writes.update_fields:
        Lead.objects.bulk_update(writes.updated, writes.update_fields, batch_size=500)
    for names, tag_leads in tagged.items():
        services.add_tags(leads=tag_leads, names=names, organization=job.organization)
    if writes.copies is None:
        activities, changes = _timeline_and_changes(job, writes, lead_ids)
        insert_rows(Activity, ACTIVITY_COLUMNS, activities)
        insert_rows(ImportChange, CHANGE_COLUMNS, changes)
        insert_rows(ImportRowError, ERROR_COLUMNS, writes.errors)
    else:
        for copy in writes.copies[1:]:
            copy.send()
    return Counts(
        created=len(lead_ids),
        updated=len(writes.updated),
        skipped=writes.skipped,
        failed=writes.failed,
    )


def _json_text(value: Any) -> str | None:
    if type(value) is JsonText:
        return value
    # The empty values every new lead and created-change holds are constants.
    if value == {}:
        return "{}"
    if value == []:
        return "[]"
    return None if value is None else json.dumps(value)


def _timestamp_text():
    """A converter of aware datetimes to the ISO text COPY takes, remembering the last one:
    the rows of a chunk share the same few times (its `now`), and psycopg's own formatting
    of a datetime costs more than the rest of a lead's row."""
    last: list = [None, None]

    def convert(value):
        if value is last[0]:
            return last[1]
        if value is None or value.tzinfo is None:
            return value  # NULL, or naive: left to psycopg
        last[:] = value, value.isoformat()
        return last[1]

    return convert


def insert_rows(
    model, columns: tuple[str, ...], rows: list[tuple], *, with_ids: bool = False
) -> list[int]:
    """Insert rows of column values (attnames, Python values as a model instance would hold
    them); returns the new ids when `with_ids`. On PostgreSQL a COPY (several times faster
    than INSERT for thousands of rows), the ids drawn from the table's sequence first;
    elsewhere bulk_create of model instances built from the rows."""
    if not rows:
        return []
    if not _postgres():
        objects = [
            model(
                **{
                    column: json.loads(value) if type(value) is JsonText else value
                    for column, value in zip(columns, row, strict=True)
                }
            )
            for row in rows
        ]
        model.objects.bulk_create(objects, batch_size=1000)
        return [obj.pk for obj in objects] if with_ids else []
    ids = new_ids(model, len(rows)) if with_ids else None
    CopyRows(model, columns, rows, ids).send()
    return ids or []


def new_ids(model, count: int) -> list[int]:
    """PostgreSQL: `count` ids drawn from the table's sequence (the sequence looked up once,
    not once per id). Drawing is not transactional: any connection may draw them."""
    meta = model._meta
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(
            "WITH s AS MATERIALIZED (SELECT pg_get_serial_sequence(%s, %s)::regclass AS seq) "
            "SELECT nextval(s.seq) FROM s CROSS JOIN generate_series(1, %s)",
            [meta.db_table, meta.pk.column, count],
        )
        return [pk for (pk,) in cursor.fetchall()]


class CopyRows:
    """PostgreSQL: rows of column values formatted for COPY FROM STDIN where they are built,
    and sent by send(), maybe on another connection: the thread that sends them then only
    waits for the server. `ids` go first, in the primary key column."""

    def __init__(
        self, model, columns: tuple[str, ...], rows: list[tuple], ids: list[int] | None = None
    ) -> None:
        meta = model._meta
        by_attname = {f.attname: f for f in meta.concrete_fields}
        fields = ([meta.pk] if ids is not None else []) + [by_attname[c] for c in columns]
        convert_at = [
            (i, _json_text if isinstance(field, JSONField) else _timestamp_text())
            for i, field in enumerate(fields)
            if isinstance(field, (JSONField, DateTimeField))
        ]
        # The wrapper itself, not django.db.connection: its proxy costs a lookup per value.
        connection = connections[DEFAULT_DB_ALIAS]
        quoted = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        self.sql = f"COPY {connection.ops.quote_name(meta.db_table)} ({quoted}) FROM STDIN"
        self.count = len(rows)
        buffer = io.BytesIO()
        # Formatted with the connection's adapters; nothing is sent.
        with (
            connection.cursor() as cursor,
            psycopg.Copy(cursor.cursor, binary=False, writer=FileWriter(buffer)) as copy,
        ):
            write_row = copy.write_row
            for index, row in enumerate(rows):
                values = [ids[index], *row] if ids is not None else list(row)
                for i, convert in convert_at:
                    values[i] = convert(values[i])
                write_row(values)
        self.data = buffer.getvalue()

    def send(self) -> None:
        if not self.count:
            return
        with (
            connections[DEFAULT_DB_ALIAS].cursor() as cursor,
            cursor.cursor.copy(self.sql) as copy,
        ):
            copy.write(self.data)


def _score(leads: list[Lead], profile) -> None:
    """Score as create_lead and update_lead do, with the companies read in one query."""
    ids = {lead.company_id for lead in leads if lead.company_id}
    companies = Company.objects.in_bulk(ids) if ids else {}
    for lead in leads:
        if lead.company_id:
            lead.company = companies[lead.company_id]
        lead.score, lead.score_explanation = scoring.score_lead(lead, profile)


def _tag_names_of(leads: list[Lead], org) -> dict[int, set[str]]:
    if not leads:
        return {}
    found: dict[int, set[str]] = defaultdict(set)
    for lead_id, name in (
        LeadTag.objects.for_org(org)
        .filter(lead__in=[lead.pk for lead in leads])
        .values_list("lead_id", "tag__name")
    ):
        found[lead_id].add(name.lower())
    return found


def _shown(changes: dict[str, list]) -> dict[str, list]:
    return {
        key: [
            value if isinstance(value, (str, int, list, dict, type(None))) else str(value)
            for value in pair
        ]
        for key, pair in changes.items()
    }
