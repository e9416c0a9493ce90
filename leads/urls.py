"""Browser routes of the leads app. Organization pages live under /o/<org_slug>/; the public
capture-form endpoint under /f/<public_id>."""

from django.urls import path

from leads.views import companies, lead_detail, tasks

app_name = "leads"

urlpatterns: list = []

# The lead page, its in-place edits and timeline; companies; follow-up tasks.
_lead = "o/<slug:org_slug>/leads/<int:lead_id>/"
_company = "o/<slug:org_slug>/companies/<int:company_id>/"
urlpatterns += [
    path(_lead, lead_detail.lead_detail, name="lead_detail"),
    path(f"{_lead}edit/", lead_detail.edit_lead, name="lead_edit"),
    path(f"{_lead}fields/<str:field>/", lead_detail.lead_field, name="lead_field"),
    path(f"{_lead}fields/<str:field>/edit/", lead_detail.edit_lead_field, name="lead_field_edit"),
    path(f"{_lead}tags/<str:action>/", lead_detail.lead_tags, name="lead_tags"),
    path(
        f"{_lead}custom-fields/<int:field_id>/",
        lead_detail.lead_custom_field,
        name="lead_custom_field",
    ),
    path(
        f"{_lead}custom-fields/<int:field_id>/edit/",
        lead_detail.edit_lead_custom_field,
        name="lead_custom_field_edit",
    ),
    path(f"{_lead}activities/new/", lead_detail.log_activity, name="lead_log_activity"),
    path(f"{_lead}archive/", lead_detail.archive_lead, name="lead_archive"),
    path(f"{_lead}restore/", lead_detail.restore_lead, name="lead_restore"),
    path(f"{_lead}tasks/new/", tasks.add_task, name="lead_add_task"),
    path("o/<slug:org_slug>/companies/", companies.company_list, name="company_list"),
    path(_company, companies.company_detail, name="company_detail"),
    path(f"{_company}edit/", companies.edit_company, name="company_edit"),
    path(f"{_company}fields/<str:field>/", companies.company_field, name="company_field"),
    path(
        f"{_company}fields/<str:field>/edit/",
        companies.edit_company_field,
        name="company_field_edit",
    ),
    path("o/<slug:org_slug>/tasks/", tasks.tasks, name="tasks"),
    path("o/<slug:org_slug>/tasks/<int:task_id>/done/", tasks.toggle_task, name="task_toggle"),
]

# The pipeline board, the lead list with bulk actions, a new lead, saved views.
from leads.views import board, lead_list, saved_views  # noqa: E402

_org = "o/<slug:org_slug>/"
urlpatterns += [
    path(f"{_org}pipeline/", board.board, name="board"),
    path(f"{_org}pipeline/<str:status>/", board.board_column, name="board_column"),
    path(f"{_org}leads/<int:lead_id>/move/", board.move_lead, name="move"),
    path(f"{_org}leads/", lead_list.lead_list, name="lead_list"),
    path(f"{_org}leads/new/", lead_list.new_lead, name="lead_create"),
    path(f"{_org}leads/bulk/", lead_list.bulk_leads, name="lead_bulk"),
    path(f"{_org}views/", saved_views.saved_views, name="saved_views"),
    path(f"{_org}views/new/", saved_views.create_saved_view, name="saved_view_create"),
    path(
        f"{_org}views/<int:view_id>/rename/",
        saved_views.rename_saved_view,
        name="saved_view_rename",
    ),
    path(
        f"{_org}views/<int:view_id>/delete/",
        saved_views.delete_saved_view,
        name="saved_view_delete",
    ),
]

# Export, capture forms (and their public endpoint), scoring, privacy, duplicates and merges.
from leads.views import (  # noqa: E402
    capture_forms,
    duplicates,
    exports,
    privacy,
    scoring,
)

_forms = "o/<slug:org_slug>/settings/forms/"
urlpatterns += [
    path(f"{_org}leads/export/", exports.export_leads, name="export"),
    path(f"{_org}leads/duplicates/", duplicates.duplicates, name="duplicates"),
    path(f"{_org}leads/<int:lead_id>/merge/", duplicates.merge_leads, name="merge"),
    path(f"{_org}leads/<int:lead_id>/score/", scoring.lead_score, name="lead_score"),
    path(
        f"{_org}leads/<int:lead_id>/export.json",
        privacy.lead_export_json,
        name="lead_export_json",
    ),
    path(f"{_org}leads/<int:lead_id>/erase/", privacy.lead_erase, name="lead_erase"),
    path(
        f"{_org}companies/<int:company_id>/merge/",
        duplicates.merge_companies,
        name="company_merge",
    ),
    path(f"{_org}settings/scoring/", scoring.scoring_settings, name="scoring"),
    path(_forms, capture_forms.capture_forms, name="capture_forms"),
    path(f"{_forms}new/", capture_forms.new_capture_form, name="capture_form_new"),
    path(
        f"{_forms}<int:form_id>/",
        capture_forms.capture_form_detail,
        name="capture_form_detail",
    ),
    path(
        f"{_forms}<int:form_id>/delete/",
        capture_forms.delete_capture_form,
        name="capture_form_delete",
    ),
    path("f/<str:public_id>", capture_forms.form_submit, name="form_submit"),
    path("f/<str:public_id>/", capture_forms.form_submit),
]

# CSV import: upload, mapping and preview, progress and result, revert, rows not imported.
from leads.views import imports  # noqa: E402

_imports = "o/<slug:org_slug>/leads/imports/"
urlpatterns += [
    path(_imports, imports.imports, name="imports"),
    path(f"{_imports}upload/", imports.upload_import, name="import_upload"),
    path(f"{_imports}<int:job_id>/", imports.import_detail, name="import_detail"),
    path(f"{_imports}<int:job_id>/preview/", imports.preview_import, name="import_preview"),
    path(f"{_imports}<int:job_id>/start/", imports.start_import, name="import_start"),
    path(f"{_imports}<int:job_id>/discard/", imports.discard_import, name="import_discard"),
    path(f"{_imports}<int:job_id>/revert/", imports.revert_import, name="import_revert"),
    path(
        f"{_imports}<int:job_id>/not-imported.csv",
        imports.import_failed_rows,
        name="import_failed_rows",
    ),
]

# Custom field definitions (settings).
from leads.views import custom_fields  # noqa: E402

_custom = "o/<slug:org_slug>/settings/custom-fields/"
urlpatterns += [
    path(_custom, custom_fields.custom_fields, name="custom_fields"),
    path(
        f"{_custom}<int:field_id>/rename/",
        custom_fields.rename_custom_field,
        name="custom_field_rename",
    ),
    path(
        f"{_custom}<int:field_id>/delete/",
        custom_fields.delete_custom_field,
        name="custom_field_delete",
    ),
]
