"""An import's life: upload (draft), mapping and preview, start, the run in chunks on the
worker, the result, the failed rows, and revert.

The run is idempotent and resumable: every chunk of rows is one transaction that first
claims its place (`processed_rows` moves from where the chunk starts, conditionally), then
writes, then adds its counts with F(). A retry after a crash continues after the last
committed chunk; a second worker on the same job finds the claim taken and stops. On
PostgreSQL those transactions run on a second connection while this one prepares the next
chunk (_ChunkWriter).
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from itertools import islice
from typing import Any, BinaryIO

from django.core.files import File
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.db.models import F
from django.utils import timezone

from accounts import events, usage
from leads.importing import mapping as mappings
from leads.importing.reading import (
    MAX_UPLOAD_BYTES,
    UnreadableFile,
    count_data_rows,
    iter_data_rows,
    sniff,
)
from leads.importing.rows import SKIPPED_PREFIX, ParsedRow, parse_row
from leads.importing.writing import (
    TAGS_ADDED,
    Counts,
    Writes,
    apply_writes,
    company_cache,
    decide,
    prepare_writes,
    write,
)
from leads.models import (
    Activity,
    ActivityKind,
    CustomFieldDefinition,
    DuplicatePolicy,
    ImportChange,
    ImportJob,
    ImportRowError,
    ImportStatus,
    Lead,
    LeadTag,
)

USAGE_ACTION = "leads.import_row"
CHUNK_ROWS = 5000
# A task hands the rest of a long file to a fresh task after this long, well inside
# Q_CLUSTER's timeout, so no single task is killed halfway.
TIME_BUDGET_SECONDS = 120
PREVIEW_ROWS = 10
FINISHED = (ImportStatus.COMPLETED, ImportStatus.FAILED, ImportStatus.REVERTED)
REVERTIBLE = (ImportStatus.COMPLETED, ImportStatus.FAILED)


class InvalidImport(Exception):
    """The upload or the mapping cannot be used; the message is for the user."""


def custom_field_labels(organization) -> dict[str, str]:
    return dict(CustomFieldDefinition.objects.for_org(organization).values_list("key", "label"))


def size_message(size: int) -> str:
    return (
        f"The file is {size / 1024 / 1024:.1f} MB; imports take files up to "
        f"{MAX_UPLOAD_BYTES // 1024 // 1024} MB. Split it into smaller files and import each."
    )


def check_upload_size(size: int) -> None:
    if size > MAX_UPLOAD_BYTES:
        raise InvalidImport(size_message(size))


def clean_mapping(
    headers: list[str], wanted: dict[str, Any] | None, custom_fields: dict[str, str]
) -> dict[str, str]:
    """The auto mapping overridden by `wanted` ({header: target or ""}). Raises InvalidImport
    for unknown headers or targets, or when nothing would give a lead an email or a name."""
    result = mappings.auto_map(headers, custom_fields)
    if wanted:
        if not isinstance(wanted, dict):
            raise InvalidImport('The mapping must be an object: {"CSV header": "field"}.')
        unknown = sorted(str(header) for header in wanted if header not in result)
        if unknown:
            raise InvalidImport(
                f"The mapping names columns the file does not have: {', '.join(unknown)}."
            )
        valid = mappings.valid_targets(custom_fields)
        bad = sorted(str(t) for t in wanted.values() if (t or "") not in valid)
        if bad:
            raise InvalidImport(
                f"Unknown fields in the mapping: {', '.join(bad)}. Use one of: "
                + ", ".join(sorted(t for t in valid if t))
                + ', or "" to leave a column out.'
            )
        result |= {header: target or "" for header, target in wanted.items()}
    if not {"email", "first_name", "last_name", "full_name"} & set(result.values()):
        raise InvalidImport(
            "No column is mapped to Email or to a name, so no lead could be created. Map at "
            "least one column to Email, First name, Last name or Full name."
        )
    return result


def create_job(
    *,
    organization,
    actor,
    upload: File,
    filename: str,
    on_duplicate: str = DuplicatePolicy.SKIP,
    tags: Iterable[str] = (),
) -> ImportJob:
    """Store an uploaded file as a draft import with its encoding, delimiter, headers and
    the automatic mapping. Raises InvalidImport (too large, unreadable, empty) with the
    reason in words; nothing is stored then."""
    check_upload_size(upload.size)
    try:
        found = sniff(upload)
    except UnreadableFile as exc:
        raise InvalidImport(str(exc)) from exc
    custom = custom_field_labels(organization)
    job = ImportJob(
        organization=organization,
        created_by=actor,
        original_filename=filename[:255],
        size_bytes=upload.size,
        encoding=found.encoding,
        delimiter=found.delimiter,
        headers=found.headers,
        mapping=mappings.auto_map(found.headers, custom),
        on_duplicate=on_duplicate,
        tags=[t for t in dict.fromkeys(str(t).strip()[:50] for t in tags) if t],
    )
    upload.seek(0)
    # Streams the upload (a temporary file past FILE_UPLOAD_MAX_MEMORY_SIZE) to storage.
    job.file.save(filename, upload, save=False)
    job.save()
    return job


def _columns(job: ImportJob) -> list[tuple[int, str]]:
    return [
        (index, job.mapping[header])
        for index, header in enumerate(job.headers)
        if job.mapping.get(header)
    ]


def _default_source(job: ImportJob) -> str:
    vendor = mappings.vendor_label(mappings.detect_vendor(job.headers))
    return f"{vendor} import" if vendor and vendor != "another CRM" else "CSV import"


def _default_region(job: ImportJob) -> str | None:
    """The organization's country for phone numbers without one, remembered on the job:
    the read-ahead thread parses rows without touching the database, so the main thread
    looks it up first."""
    if "default_region" not in job.__dict__:
        job.__dict__["default_region"] = job.organization.default_country or None
    return job.__dict__["default_region"]


def _parse(job: ImportJob, records: Iterable[tuple[int, list[str]]]) -> list[ParsedRow]:
    columns, width, source = _columns(job), len(job.headers), _default_source(job)
    region = _default_region(job)
    return [
        parse_row(
            line,
            cells,
            header_count=width,
            columns=columns,
            default_source=source,
            default_region=region,
        )
        for line, cells in records
    ]


def _batches(rows: list[ParsedRow]) -> Iterator[list[ParsedRow]]:
    """Consecutive runs of rows in which no row could match another one's lead (same email,
    or same name and domain where one of the two has no email), so that a later row of the
    same person sees what the earlier one wrote."""
    batch: list[ParsedRow] = []
    emails: set[str] = set()
    names: set[tuple] = set()
    names_without_email: set[tuple] = set()
    for row in rows:
        key = row.name_key if not row.action else None
        email = row.email if not row.action else ""
        clash = (email and email in emails) or (
            key and (key in names_without_email or (not email and key in names))
        )
        if clash:
            yield batch
            batch, emails, names, names_without_email = [], set(), set(), set()
        batch.append(row)
        if email:
            emails.add(email)
        if key:
            names.add(key)
            if not email:
                names_without_email.add(key)
    if batch:
        yield batch


def _open(job: ImportJob) -> BinaryIO:
    try:
        return job.file.open("rb")
    except FileNotFoundError as exc:
        raise UnreadableFile(
            "The uploaded file is no longer on the server. Upload it again to import it."
        ) from exc


def preview(job: ImportJob, limit: int = PREVIEW_ROWS) -> list[ParsedRow]:
    """The first rows as the run would treat them (duplicates and suppression included),
    with their problems. Reads the database, writes nothing."""
    stream = _open(job)
    try:
        records = []
        for record in iter_data_rows(stream, job.encoding, job.delimiter):
            records.append(record)
            if len(records) >= limit:
                break
    finally:
        stream.close()
    rows = _parse(job, records)
    for batch in _batches(rows):
        decide(job, batch)
    return rows


def start_job(
    *,
    job: ImportJob,
    mapping: dict[str, str],
    on_duplicate: str,
    tags: Iterable[str] = (),
) -> bool:
    """Save the mapping and queue the run (after commit). Only a draft starts; returns
    False when the job had already been started. Raises QuotaExceeded when the plan has no
    import rows left this month."""
    from config.tasks import enqueue_on_commit
    from leads.tasks import run_import

    usage.check(job.organization, USAGE_ACTION, 1)
    with transaction.atomic():
        started = (
            ImportJob.objects.for_org(job.organization)
            .filter(pk=job.pk, status=ImportStatus.DRAFT)
            .update(
                status=ImportStatus.QUEUED,
                mapping=mapping,
                on_duplicate=on_duplicate,
                tags=[t for t in dict.fromkeys(str(t).strip()[:50] for t in tags) if t],
            )
        )
        if started:
            enqueue_on_commit(run_import, job.organization_id, job.pk)
    job.refresh_from_db()
    return bool(started)


def _count_rows(job: ImportJob) -> int:
    stream = _open(job)
    try:
        return count_data_rows(stream, job.encoding, job.delimiter)
    finally:
        stream.close()


def _fail(job: ImportJob, message: str) -> None:
    ImportJob.objects.filter(pk=job.pk, status=ImportStatus.RUNNING).update(
        status=ImportStatus.FAILED, error=message, finished_at=timezone.now()
    )


@dataclass
class RunResult:
    status: str
    continued: bool = False


def run(
    organization_id: int, job_id: int, *, time_budget: float = TIME_BUDGET_SECONDS
) -> RunResult:
    """The worker's side of an import (see the module docstring). Idempotent."""
    job = (
        ImportJob.objects.filter(organization_id=organization_id, pk=job_id)
        .select_related("organization", "created_by")
        .first()
    )
    if job is None or job.status not in (ImportStatus.QUEUED, ImportStatus.RUNNING):
        return RunResult(job.status if job else "missing")
    ImportJob.objects.filter(pk=job.pk, status=ImportStatus.QUEUED).update(
        status=ImportStatus.RUNNING, started_at=timezone.now()
    )
    job.refresh_from_db()
    if job.status != ImportStatus.RUNNING:
        return RunResult(job.status)
    deadline = time.monotonic() + time_budget
    try:
        if not job.total_rows:
            total = _count_rows(job)
            usage.check(job.organization, USAGE_ACTION, total)
            ImportJob.objects.filter(pk=job.pk, total_rows=0).update(total_rows=total)
            job.refresh_from_db()
        stream, writer = _open(job), None
        try:
            records = iter_data_rows(stream, job.encoding, job.delimiter)
            # Rows of chunks committed by an earlier attempt are read past, not redone.
            next(islice(records, job.processed_rows, job.processed_rows), None)
            position = job.processed_rows
            _default_region(job)  # looked up here, not on the reading thread
            writer = _ChunkWriter(job) if _may_pipeline() else None
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-read") as reader:
                # The next chunk is read and parsed (no database) on a second thread while
                # this one waits for PostgreSQL to write and commit the current one.
                ahead = reader.submit(_read_chunk, job, records)
                while True:
                    chunk, parsed = ahead.result()
                    if not chunk:
                        break
                    ahead = reader.submit(_read_chunk, job, records)
                    if writer is not None:
                        claimed = writer.add(position, chunk, parsed)
                    else:
                        claimed = _run_chunk(job, position, chunk, parsed)
                    if not claimed:
                        return RunResult(ImportStatus.RUNNING)  # another worker holds the job
                    position += len(chunk)
                    if time.monotonic() > deadline:
                        if writer is not None and not writer.drain():
                            return RunResult(ImportStatus.RUNNING)
                        from config.tasks import enqueue_on_commit
                        from leads.tasks import run_import

                        enqueue_on_commit(run_import, organization_id, job_id)
                        return RunResult(ImportStatus.RUNNING, continued=True)
                if writer is not None and not writer.drain():
                    return RunResult(ImportStatus.RUNNING)
        finally:
            if writer is not None:
                writer.close()
            stream.close()
    except UnreadableFile as exc:
        _fail(job, str(exc))
        return RunResult(ImportStatus.FAILED)
    except usage.QuotaExceeded as exc:
        _fail(job, str(exc))
        return RunResult(ImportStatus.FAILED)
    except Exception:
        _fail(
            job,
            "The import stopped on an unexpected error; it has been logged. The rows counted "
            "below were imported and stay (revert them from this page if you like).",
        )
        raise
    return RunResult(_finish(job))


def _commit_without_waiting_for_the_disk() -> None:
    """PostgreSQL: this chunk's commit does not wait for its WAL to reach the disk. A crash
    in that instant loses the whole chunk, its claim on the rows included (the same
    transaction), so the resumed import writes it again: nothing half-done, nothing lost."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _read_chunk(
    job: ImportJob, records: Iterator[tuple[int, list[str]]]
) -> tuple[list[tuple[int, list[str]]], list[ParsedRow]]:
    """The next CHUNK_ROWS records and their parsed rows; empty lists at the end."""
    chunk = list(islice(records, CHUNK_ROWS))
    return chunk, _parse(job, chunk)


def _run_chunk(
    job: ImportJob,
    position: int,
    records: list[tuple[int, list[str]]],
    parsed: list[ParsedRow] | None = None,
) -> bool:
    """One transaction: claim rows [position, position + n), write them, add the counts.
    Retried when a concurrent writer took an email between our lookup and our insert.
    `parsed` are the records already parsed, used by the first attempt only (a failed
    attempt leaves its decisions on the rows)."""
    companies = company_cache(job)
    for attempt in range(3):
        try:
            with transaction.atomic():
                _commit_without_waiting_for_the_disk()
                if not _claim(job, position, len(records)):
                    companies.rolled_back()
                    return False
                counts = Counts()
                rows = parsed if parsed is not None and not attempt else _parse(job, records)
                for batch in _batches(rows):
                    decide(job, batch)
                    counts.add(write(job, batch, job.tags))
                _add_counts(job, counts)
            companies.committed()
            return True
        except IntegrityError:
            companies.rolled_back(forget=True)
            if attempt == 2:
                raise
        except BaseException:
            companies.rolled_back()
            raise
    return False


def _claim(job: ImportJob, position: int, count: int) -> bool:
    """Take rows [position, position + count) for this transaction; False when another
    worker has moved the job on (or it is no longer running)."""
    return bool(
        ImportJob.objects.filter(
            pk=job.pk, status=ImportStatus.RUNNING, processed_rows=position
        ).update(processed_rows=F("processed_rows") + count)
    )


def _add_counts(job: ImportJob, counts: Counts) -> None:
    ImportJob.objects.filter(pk=job.pk).update(
        created_count=F("created_count") + counts.created,
        updated_count=F("updated_count") + counts.updated,
        skipped_count=F("skipped_count") + counts.skipped,
        failed_count=F("failed_count") + counts.failed,
    )
    if counts.created + counts.updated:
        usage.record(
            job.organization,
            USAGE_ACTION,
            counts.created + counts.updated,
            user=job.created_by,
            metadata={"import_id": job.pk},
        )


# ---------------------------------------------------------------- pipelined chunks


def _may_pipeline() -> bool:
    """Chunks are written on a second connection only on PostgreSQL and outside any
    transaction: a caller's open transaction (a test's, say) holds rows that a second
    connection could not see."""
    return (
        connection.vendor == "postgresql"
        and connection.get_autocommit()
        and not connection.in_atomic_block
    )


@dataclass
class _Touched:
    """The leads a chunk being written creates or updates, as a later row could match
    them: by email, or by first and last name where one of the two has no email."""

    emails: set[str]
    names: set[tuple[str, str]]
    names_without_email: set[tuple[str, str]]
    updates: bool

    @classmethod
    def of(cls, rows: list[ParsedRow]) -> _Touched:
        touched = cls(set(), set(), set(), updates=False)
        for row in rows:
            if row.action == "update":
                # An update can give a lead another email, name or company: whatever
                # follows waits for it.
                touched.updates = True
            elif row.action == "create":
                if row.email:
                    touched.emails.add(row.email)
                first = row.fields.get("first_name", "").lower()
                last = row.fields.get("last_name", "").lower()
                if first and last:
                    touched.names.add((first, last))
                    if not row.email:
                        touched.names_without_email.add((first, last))
        return touched

    def may_match(self, rows: list[ParsedRow]) -> bool:
        """Whether deciding `rows` could find one of these leads (decide's rules, widened:
        any name pair, whatever the company)."""
        if self.updates:
            return True
        for row in rows:
            if row.action:
                continue  # already failed or skipped while parsing
            if row.email and row.email in self.emails:
                return True
            if row.name_key:
                pair = row.name_key[:2]
                if pair in self.names_without_email or (not row.email and pair in self.names):
                    return True
        return False


@dataclass
class _InFlight:
    position: int
    records: list[tuple[int, list[str]]]
    touched: _Touched
    future: Future


class _ChunkWriter:
    """Writes the chunks of a run on a second database connection (its own thread), one
    at a time and in order, while this thread prepares the next one: decides it (reading
    on its own connection), resolves its companies (created and committed at once) and
    builds its rows. PostgreSQL then writes and commits one chunk while Python builds the
    next instead of each waiting for the other.

    A chunk is prepared while the one before is still being written only when none of its
    rows could match a lead that one creates or updates (see _Touched); otherwise it waits
    for that commit, so every decision reads what a serial run would have read. A chunk
    of several batches (someone twice in it) is run serially (_run_chunk) after the one
    before has committed. A write that fails on a concurrent change (IntegrityError) is
    run again serially, and the chunk prepared meanwhile is prepared again."""

    def __init__(self, job: ImportJob) -> None:
        self.job = job
        self.in_flight: _InFlight | None = None
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-write")

    def add(
        self,
        position: int,
        records: list[tuple[int, list[str]]],
        parsed: list[ParsedRow],
    ) -> bool:
        """Queue a chunk for writing. False when the job turned out to be another worker's
        (a chunk lost its claim): nothing more is written then."""
        job = self.job
        if len(list(islice(_batches(parsed), 2))) > 1:
            return self.drain() and _run_chunk(job, position, records, parsed)
        previous = self.in_flight
        if previous is not None and previous.touched.may_match(parsed):
            if not self.drain():
                return False
            previous = None
        writes = self._prepare(parsed)
        if previous is not None:
            # Waits for the chunk before; one whose write failed is run again (drain).
            redone = previous.future.exception() is not None
            if not self.drain():
                return False
            if redone:  # decide this chunk again after what that run changed
                parsed = _parse(job, records)
                writes = self._prepare(parsed)
        self.in_flight = _InFlight(
            position,
            records,
            _Touched.of(parsed),
            self.executor.submit(_write_prepared, job, position, len(records), writes),
        )
        return True

    def _prepare(self, rows: list[ParsedRow]) -> Writes:
        decide(self.job, rows)
        writes = prepare_writes(self.job, rows, self.job.tags)
        # This connection is in autocommit: the companies it made are committed already.
        company_cache(self.job).committed()
        return writes

    def drain(self) -> bool:
        """Wait for the chunk being written. A write that failed on a concurrent change
        (IntegrityError) is run again serially; False when the job was lost."""
        in_flight, self.in_flight = self.in_flight, None
        if in_flight is None:
            return True
        try:
            return in_flight.future.result()
        except IntegrityError:
            company_cache(self.job).rolled_back(forget=True)
            return _run_chunk(self.job, in_flight.position, in_flight.records)

    def close(self) -> None:
        """Let a chunk still being written finish (after an error here), then close the
        second connection and its thread."""
        if self.in_flight is not None:
            wait([self.in_flight.future])
            self.in_flight = None
        self.executor.submit(_close_connection).result()
        self.executor.shutdown()


def _close_connection() -> None:
    connections[DEFAULT_DB_ALIAS].close()


def _write_prepared(job: ImportJob, position: int, count: int, writes: Writes) -> bool:
    """On the writing thread: one chunk prepared by _ChunkWriter, in one transaction."""
    with transaction.atomic():
        _commit_without_waiting_for_the_disk()
        if not _claim(job, position, count):
            return False
        _add_counts(job, apply_writes(job, writes))
    return True


def _finish(job: ImportJob) -> str:
    with transaction.atomic():
        done = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.RUNNING).update(
            status=ImportStatus.COMPLETED, finished_at=timezone.now()
        )
        job.refresh_from_db()
        if done:
            events.emit(
                job.organization,
                "leads.imported",
                {
                    "import_id": job.pk,
                    "file": job.original_filename,
                    "total": job.total_rows,
                    "created": job.created_count,
                    "updated": job.updated_count,
                    "skipped": job.skipped_count,
                    "failed": job.failed_count,
                },
                actor=job.created_by,
            )
    return job.status


# ---------------------------------------------------------------- revert


def request_revert(*, job: ImportJob, actor) -> bool:
    """Mark a finished import for reverting and queue the work. False when it cannot be
    reverted now (still running, or already reverting or reverted). Atomic."""
    from config.tasks import enqueue_on_commit
    from leads.tasks import revert_import

    with transaction.atomic():
        marked = (
            ImportJob.objects.for_org(job.organization)
            .filter(pk=job.pk, status__in=REVERTIBLE)
            .update(status=ImportStatus.REVERTING, error="")
        )
        if marked:
            enqueue_on_commit(revert_import, job.organization_id, job.pk)
    job.refresh_from_db()
    return bool(marked)


def revert(organization_id: int, job_id: int) -> str:
    """Remove the leads the import created (hard delete, their timeline included) and put
    back the fields and tags it changed, a chunk of changes per transaction, the newest
    first (a lead the file updated twice gets back its value from before the first); each
    chunk's change records are deleted with it, so a retry carries on where it stopped."""
    job = (
        ImportJob.objects.filter(organization_id=organization_id, pk=job_id)
        .select_related("organization", "created_by")
        .first()
    )
    if job is None or job.status != ImportStatus.REVERTING:
        return job.status if job else "missing"
    org = job.organization
    removed = restored = 0
    while True:
        with transaction.atomic():
            batch = list(
                ImportChange.objects.for_org(org).filter(job=job).order_by("-id")[:CHUNK_ROWS]
            )
            if not batch:
                break
            created = [c.lead_id for c in batch if c.action == "created" and c.lead_id]
            created += [pk for c in batch if c.action == "created" for pk in c.lead_ids or []]
            for start in range(0, len(created), REVERT_DELETE_SLICE):
                ids = created[start : start + REVERT_DELETE_SLICE]
                Activity.objects.for_org(org).filter(lead_id__in=ids).delete()
                deleted = Lead.objects.for_org(org).filter(pk__in=ids).delete()[1]
                removed += deleted.get("leads.Lead", 0)
            restored += _restore([c for c in batch if c.action == "updated" and c.lead_id], job)
            ImportChange.objects.filter(pk__in=[c.pk for c in batch]).delete()
    with transaction.atomic():
        done = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.REVERTING).update(
            status=ImportStatus.REVERTED, reverted_at=timezone.now()
        )
        if done:
            events.emit(
                org,
                "leads.import_reverted",
                {"import_id": job.pk, "file": job.original_filename},
                actor=job.created_by,
            )
    return ImportStatus.REVERTED


# Leads deleted per statement by a revert (a created-row lists a whole chunk's leads).
REVERT_DELETE_SLICE = 1000


def _restore(changes: list[ImportChange], job: ImportJob) -> int:
    org = job.organization
    if not changes:
        return 0
    leads = {
        lead.pk: lead
        for lead in Lead.objects.for_org(org).filter(pk__in=[c.lead_id for c in changes])
    }
    fields: set[str] = set()
    activities = []
    untag: dict[int, list[str]] = {}
    now = timezone.now()
    for change in changes:
        lead = leads.get(change.lead_id)
        if lead is None:
            continue
        shown = {}
        for name, old in change.previous.items():
            if name == TAGS_ADDED:
                untag.setdefault(lead.pk, []).extend(str(tag).lower() for tag in old)
                continue
            attribute = "company_id" if name == "company" else name
            shown[name] = [_plain(getattr(lead, attribute)), _plain(old)]
            setattr(lead, attribute, old)
            fields.add(attribute)
        lead.updated_at = now
        activities.append(
            Activity(
                organization=org,
                lead=lead,
                kind=ActivityKind.FIELD_CHANGE,
                actor=job.created_by,
                body=f"Import of {job.original_filename} reverted",
                data={"changes": shown, "import_id": job.pk, "reverted": True},
            )
        )
    if fields:
        Lead.objects.bulk_update(list(leads.values()), [*sorted(fields), "updated_at"])
    for lead_id, names in untag.items():
        from django.db.models.functions import Lower

        LeadTag.objects.for_org(org).filter(lead_id=lead_id).annotate(
            lname=Lower("tag__name")
        ).filter(lname__in=names).delete()
    Activity.objects.bulk_create(activities)
    return len(activities)


def _plain(value: Any) -> Any:
    return value if isinstance(value, (str, int, list, dict, type(None))) else str(value)


# ---------------------------------------------------------------- results


def progress_percent(job: ImportJob) -> int:
    if job.status in (ImportStatus.COMPLETED, ImportStatus.REVERTED):
        return 100
    if not job.total_rows:
        return 0
    return min(100, job.processed_rows * 100 // job.total_rows)


def eta_seconds(job: ImportJob) -> int | None:
    """Seconds left at the rate so far, or None before the first chunk."""
    if job.status != ImportStatus.RUNNING or not job.started_at or not job.processed_rows:
        return None
    elapsed = (timezone.now() - job.started_at).total_seconds()
    left = max(job.total_rows - job.processed_rows, 0)
    return int(elapsed / job.processed_rows * left)


def failed_rows_csv(job: ImportJob) -> Iterator[str]:
    """The rows that were not imported, as CSV text: line number, outcome and reason, then
    the original columns (and any extra cells of a ragged row), streamed a chunk at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(["Line", "Outcome", "Reason", *job.headers])
    yield flush()
    errors = (
        ImportRowError.objects.for_org(job.organization)
        .filter(job=job)
        .order_by("line_number", "id")
        .values_list("line_number", "reason", "row")
    )
    for line, reason, cells in errors.iterator(chunk_size=2000):
        skipped = reason.startswith(SKIPPED_PREFIX)
        writer.writerow(
            [
                line,
                "skipped" if skipped else "failed",
                reason.removeprefix(SKIPPED_PREFIX),
                *[_safe_cell(cell) for cell in cells],
            ]
        )
        if buffer.tell() > 64 * 1024:
            yield flush()
    yield flush()


def _safe_cell(value: str) -> str:
    # A cell a spreadsheet would run as a formula is shown as text.
    if value and value[0] in "=+-@\t\r":
        return "'" + value
    return value
