"""Every /api/v1/ route. Apps add their viewsets to the router here."""

from django.urls import re_path
from rest_framework.routers import DefaultRouter

from accounts.api.audit import EventViewSet
from accounts.api.auth import MeView, RegisterView, TokenView
from accounts.api.keys import ApiKeyViewSet
from accounts.api.organization import InvitationViewSet, MemberViewSet, OrganizationView
from accounts.api.staff import StaffOrganizationViewSet, StaffUsageViewSet, StaffUserViewSet
from accounts.api.webhooks import WebhookEndpointViewSet
from leads.api.companies import CompanyViewSet
from leads.api.leads import LeadViewSet

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

urlpatterns = [
    re_path(r"^auth/register/?$", RegisterView.as_view(), name="auth-register"),
    re_path(r"^auth/token/?$", TokenView.as_view(), name="auth-token"),
    re_path(r"^auth/me/?$", MeView.as_view(), name="auth-me"),
    re_path(r"^organization/?$", OrganizationView.as_view(), name="organization"),
    *router.urls,
]
