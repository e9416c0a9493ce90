"""Every /api/v1/ route. Apps add their viewsets to the router here."""

from django.urls import re_path
from rest_framework.routers import DefaultRouter

from accounts.api.audit import EventViewSet
from accounts.api.auth import MeView, RegisterView, TokenView
from accounts.api.keys import ApiKeyViewSet
from accounts.api.organization import InvitationViewSet, MemberViewSet, OrganizationView
from accounts.api.staff import StaffOrganizationViewSet, StaffUsageViewSet, StaffUserViewSet
from accounts.api.webhooks import WebhookEndpointViewSet
from agents.api import (
    AgentRunViewSet,
    DraftViewSet,
    LeadAgentRunViewSet,
    LeadDraftViewSet,
    SuggestionViewSet,
)
from campaigns.api import (
    CampaignMessageViewSet,
    CampaignViewSet,
    SenderViewSet,
    SuppressionViewSet,
)
from enrichment.api import EnrichmentJobViewSet, EnrichView
from leads.api.companies import CompanyViewSet
from leads.api.exports import LeadExportView
from leads.api.forms import CaptureFormViewSet
from leads.api.imports import ImportJobViewSet
from leads.api.leads import LeadViewSet
from leads.api.merge import LeadMergeView
from leads.api.tasks import LeadTaskViewSet

router = DefaultRouter(trailing_slash="/?")
router.include_root_view = False

router.register("api-keys", ApiKeyViewSet, basename="api-key")
router.register("organization/members", MemberViewSet, basename="member")
router.register("organization/invitations", InvitationViewSet, basename="invitation")
router.register("webhooks", WebhookEndpointViewSet, basename="webhook")
router.register("events", EventViewSet, basename="event")
router.register("admin/users", StaffUserViewSet, basename="staff-user")
router.register("admin/organizations", StaffOrganizationViewSet, basename="staff-organization")
router.register("admin/usage", StaffUsageViewSet, basename="staff-usage")
router.register("leads", LeadViewSet, basename="lead")
router.register("companies", CompanyViewSet, basename="company")
router.register("forms", CaptureFormViewSet, basename="capture-form")
router.register("tasks", LeadTaskViewSet, basename="task")
router.register("enrichment/jobs", EnrichmentJobViewSet, basename="enrichment-job")
router.register("agent-runs", AgentRunViewSet, basename="agent-run")
router.register("drafts", DraftViewSet, basename="draft")
router.register("suggestions", SuggestionViewSet, basename="suggestion")
router.register("senders", SenderViewSet, basename="sender")
router.register("campaigns", CampaignViewSet, basename="campaign")
router.register("suppressions", SuppressionViewSet, basename="suppression")

urlpatterns = [
    re_path(r"^auth/register/?$", RegisterView.as_view(), name="auth-register"),
    re_path(r"^auth/token/?$", TokenView.as_view(), name="auth-token"),
    re_path(r"^auth/me/?$", MeView.as_view(), name="auth-me"),
    re_path(r"^organization/?$", OrganizationView.as_view(), name="organization"),
    re_path(r"^enrichment/enrich/?$", EnrichView.as_view(), name="enrichment-enrich"),
    # Before the router: leads/export/ is not a lead id, merge is not a router action.
    re_path(r"^leads/export/?$", LeadExportView.as_view(), name="lead-export"),
    re_path(r"^leads/(?P<pk>\d+)/merge/?$", LeadMergeView.as_view(), name="lead-merge"),
    # CSV imports, before the router too (its leads/{pk}/ would take leads/import/).
    re_path(r"^leads/import/?$", ImportJobViewSet.as_view({"post": "create"}), name="lead-import"),
    re_path(r"^imports/?$", ImportJobViewSet.as_view({"get": "list"}), name="import-list"),
    re_path(
        r"^imports/(?P<pk>\d+)/?$",
        ImportJobViewSet.as_view({"get": "retrieve"}),
        name="import-detail",
    ),
    re_path(
        r"^imports/(?P<pk>\d+)/failed-rows/?$",
        ImportJobViewSet.as_view({"get": "failed_rows"}),
        name="import-failed-rows",
    ),
    re_path(
        r"^imports/(?P<pk>\d+)/revert/?$",
        ImportJobViewSet.as_view({"post": "revert"}),
        name="import-revert",
    ),
    # A lead's agent runs and drafts (agents.api), beside the leads router's own routes.
    re_path(
        r"^leads/(?P<lead_id>\d+)/agent-runs/?$",
        LeadAgentRunViewSet.as_view({"get": "list", "post": "create"}),
        name="lead-agent-runs",
    ),
    re_path(
        r"^leads/(?P<lead_id>\d+)/drafts/?$",
        LeadDraftViewSet.as_view({"get": "list"}),
        name="lead-drafts",
    ),
    # A campaign's message log (campaigns.api), beside the router's campaign routes.
    re_path(
        r"^campaigns/(?P<campaign_id>\d+)/messages/?$",
        CampaignMessageViewSet.as_view({"get": "list"}),
        name="campaign-messages",
    ),
    *router.urls,
]
