"""Browser routes of the leads app. Organization pages live under /o/<org_slug>/; the public
capture-form endpoint under /f/<public_id>."""

from django.urls import path  # noqa: F401  (each area adds its routes below)

app_name = "leads"

urlpatterns: list = []
