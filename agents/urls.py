"""Browser routes of the agents app."""

from django.urls import path

from agents import views
from agents.models import AgentType

app_name = "agents"

_o = "o/<slug:org_slug>/"
_a = f"{_o}agents/"

urlpatterns = [
    path(_a, views.run_list, name="runs"),
    path(f"{_a}focus/", views.focus_start, name="focus_start"),
    path(f"{_a}runs/<int:run_id>/", views.run_detail, name="run_detail"),
    path(f"{_a}runs/<int:run_id>/cancel/", views.run_cancel, name="run_cancel"),
    path(f"{_a}leads/<int:lead_id>/", views.lead_panel, name="lead_panel"),
    path(f"{_a}leads/<int:lead_id>/run/", views.run_start, name="run_start"),
    path(
        f"{_a}drafts/<int:draft_id>/<str:action>/",
        views.draft_action,
        name="draft_action",
    ),
    path(
        f"{_a}suggestions/<int:suggestion_id>/<str:action>/",
        views.suggestion_action,
        name="suggestion_action",
    ),
    path(
        f"{_a}bulk/research/",
        views.bulk_run,
        {"agent_type": AgentType.RESEARCH},
        name="bulk_research",
    ),
    path(
        f"{_a}bulk/outreach/",
        views.bulk_run,
        {"agent_type": AgentType.OUTREACH},
        name="bulk_outreach",
    ),
    path(
        f"{_a}bulk/qualify/", views.bulk_run, {"agent_type": AgentType.QUALIFY}, name="bulk_qualify"
    ),
    path(f"{_o}settings/ai/", views.ai_settings_page, name="settings"),
    path(f"{_o}settings/ai/keys/", views.key_save, name="key_save"),
    path(f"{_o}settings/ai/keys/<str:provider>/remove/", views.key_remove, name="key_remove"),
]
