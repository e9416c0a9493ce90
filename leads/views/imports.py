"""CSV import in the browser: upload, column mapping with a preview, live progress, the
result with the rows not imported as a CSV, revert; and the list of past imports.

The work itself is leads.importing; these views validate, call it and render.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling

from accounts import usage
from accounts.models import Role
from accounts.tenancy import OrgRequest, org_member_required
from accounts.views.pages import done, page
from config.tasks import queue_status
from leads import importing
from leads.importing.forms import MappingForm, UploadForm
from leads.importing.mapping import detect_vendor, vendor_label
from leads.importing.reading import MAX_UPLOAD_BYTES
from leads.importing.running import FINISHED, REVERTIBLE, size_message
from leads.models import ImportJob, ImportStatus

JOBS_PER_PAGE = 25
DETAIL = "leads/import_detail.html"
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
ENCODING_NAMES = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 with BOM",
    "utf-16": "UTF-16 (Excel Unicode text)",
    "utf-16-le": "UTF-16 LE",
    "utf-16-be": "UTF-16 BE",
    "cp1252": "Windows-1252",
}


def _job(request: OrgRequest, job_id: int) -> ImportJob:
    return get_object_or_404(
        ImportJob.objects.for_org(request.org).select_related("created_by"), pk=job_id
    )


def _list_page(request: OrgRequest, form: UploadForm | None = None, upload_error: str = ""):
    jobs = ImportJob.objects.for_org(request.org).select_related("created_by")
    jobs_page = Paginator(jobs, JOBS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "form": form or UploadForm(),
        "jobs_page": jobs_page,
        "jobs": list(jobs_page.object_list),
        "upload_error": upload_error,
        "can_write": request.membership.has_role(Role.MEMBER),
    }
    return page(request, "leads/import_list.html", context)


@org_member_required
@require_GET
def imports(request: OrgRequest):
    return _list_page(request)


@org_member_required(role=Role.MEMBER)
@require_POST
def upload_import(request: OrgRequest):
    # Refused from the declared length before the body is parsed into a temporary file.
    declared = int(request.META.get("CONTENT_LENGTH") or 0)
    if declared > MAX_UPLOAD_BYTES + 1024 * 1024:
        return _list_page(request, upload_error=size_message(declared))
    form = UploadForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = importing.create_job(
                organization=request.org, actor=request.user, upload=upload, filename=upload.name
            )
        except importing.InvalidImport as exc:
            form.add_error("file", str(exc))
        else:
            return done(request, "leads:import_detail", org_slug=request.org.slug, job_id=job.pk)
    return _list_page(request, form)


def _draft_context(request: OrgRequest, job: ImportJob, form: MappingForm) -> dict:
    rows, error = [], ""
    try:
        rows = importing.preview(job)
    except importing.UnreadableFile as exc:
        error = str(exc)
    first = rows[0].cells if rows else []
    return {
        "job": job,
        "form": form,
        "columns": [
            (field, first[index] if index < len(first) else "")
            for index, field in enumerate(form.column_fields())
        ],
        "rows": rows,
        "preview_error": error,
        "vendor": vendor_label(detect_vendor(job.headers)),
        "encoding": ENCODING_NAMES.get(job.encoding, job.encoding),
        "delimiter": DELIMITER_NAMES.get(job.delimiter, job.delimiter),
        "can_write": request.membership.has_role(Role.MEMBER),
    }


def _duration(seconds: int | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{max(seconds, 1)} s"
    if seconds < 3600:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def _status_context(request: OrgRequest, job: ImportJob) -> dict:
    return {
        "job": job,
        "percent": importing.progress_percent(job),
        "eta_text": _duration(importing.eta_seconds(job)),
        "finished": job.status in FINISHED,
        "revertible": job.status in REVERTIBLE and (job.created_count or job.updated_count),
        "not_imported": job.skipped_count + job.failed_count,
        "can_write": request.membership.has_role(Role.MEMBER),
        # Queued with no worker alive: say so rather than wait in silence.
        "no_worker": job.status == ImportStatus.QUEUED and not queue_status()["ok"],
    }


@org_member_required
@require_GET
def import_detail(request: OrgRequest, job_id: int):
    """A draft shows the mapping and preview; a started import its progress or result.
    The progress fragment polls itself and is told to stop (286) once the job is done."""
    job = _job(request, job_id)
    if job.status == ImportStatus.DRAFT:
        form = MappingForm(job=job, custom_fields=importing.custom_field_labels(request.org))
        return page(request, DETAIL, _draft_context(request, job, form))
    response = page(request, DETAIL, _status_context(request, job), fragment="import-status")
    if request.htmx and job.status in FINISHED:
        response.status_code = HttpResponseStopPolling.status_code
    return response


def _bound_mapping(request: OrgRequest, job: ImportJob) -> tuple[MappingForm, dict | None]:
    custom = importing.custom_field_labels(request.org)
    form = MappingForm(request.POST, job=job, custom_fields=custom)
    if not form.is_valid():
        return form, None
    try:
        mapping = importing.clean_mapping(job.headers, form.mapping(), custom)
    except importing.InvalidImport as exc:
        form.add_error(None, str(exc))
        return form, None
    return form, mapping


@org_member_required(role=Role.MEMBER)
@require_POST
def preview_import(request: OrgRequest, job_id: int):
    """The preview for the mapping as edited, without saving it."""
    job = _job(request, job_id)
    if job.status != ImportStatus.DRAFT:
        return done(request, "leads:import_detail", org_slug=request.org.slug, job_id=job.pk)
    form, mapping = _bound_mapping(request, job)
    if mapping is not None:
        job.mapping, job.on_duplicate = mapping, form.cleaned_data["on_duplicate"]
    return page(request, DETAIL, _draft_context(request, job, form), fragment="import-preview")


@org_member_required(role=Role.MEMBER)
@require_POST
def start_import(request: OrgRequest, job_id: int):
    job = _job(request, job_id)
    if job.status != ImportStatus.DRAFT:
        return done(request, "leads:import_detail", org_slug=request.org.slug, job_id=job.pk)
    form, mapping = _bound_mapping(request, job)
    if mapping is not None:
        try:
            importing.start_job(
                job=job,
                mapping=mapping,
                on_duplicate=form.cleaned_data["on_duplicate"],
                tags=form.tag_list(),
            )
        except usage.QuotaExceeded as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Import of {job.original_filename} started.")
            return done(request, "leads:import_detail", org_slug=request.org.slug, job_id=job.pk)
    return page(request, DETAIL, _draft_context(request, job, form))


@org_member_required(role=Role.MEMBER)
@require_POST
def discard_import(request: OrgRequest, job_id: int):
    """Drop a draft (not started) and its stored file."""
    job = _job(request, job_id)
    if job.status == ImportStatus.DRAFT:
        job.file.delete(save=False)
        job.delete()
        messages.success(request, f"{job.original_filename} was discarded.")
    return done(request, "leads:imports", org_slug=request.org.slug)


@org_member_required(role=Role.MEMBER)
@require_POST
def revert_import(request: OrgRequest, job_id: int):
    job = _job(request, job_id)
    if importing.request_revert(job=job, actor=request.user):
        messages.success(
            request,
            "Reverting the import: its new leads are removed and the "
            "fields it changed are put back.",
        )
    else:
        messages.warning(request, "This import cannot be reverted now.")
    return redirect("leads:import_detail", org_slug=request.org.slug, job_id=job.pk)


@org_member_required
@require_GET
def import_failed_rows(request: OrgRequest, job_id: int):
    """The rows not imported, with line and reason: a CSV that opens in Excel (BOM)."""
    job = _job(request, job_id)

    def body():
        yield "\ufeff"
        yield from importing.failed_rows_csv(job)

    response = StreamingHttpResponse(body(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="import-{job.pk}-rows-not-imported.csv"'
    )
    return response
