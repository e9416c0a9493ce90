"""Browser routes of the enrichment app, under /o/<org_slug>/enrichment/."""

from django.urls import path

from enrichment import views

app_name = "enrichment"

_jobs = "o/<slug:org_slug>/enrichment/"
_job = f"{_jobs}<int:job_id>/"

urlpatterns = [
    path(_jobs, views.job_list, name="jobs"),
    path(f"{_jobs}new/", views.job_create, name="job_create"),
    path(f"{_jobs}from-leads/", views.from_leads, name="from_leads"),
    path(f"{_jobs}from-company/<int:company_id>/", views.from_company, name="from_company"),
    path(_job, views.job_detail, name="job_detail"),
    path(f"{_job}cancel/", views.job_cancel, name="job_cancel"),
    path(f"{_job}apply/", views.job_apply, name="job_apply"),
    path(f"{_job}export/", views.job_export, name="job_export"),
    path(f"{_job}results/<int:result_id>/", views.result_detail, name="result_detail"),
]
