from django.urls import path

from accounts.views import api_keys, invitations, members, org, webhooks

# Organization pages: every view here is wrapped in org_member_required.
o = "o/<slug:org_slug>/"
s = f"{o}settings/"

urlpatterns = [
    path("", org.home, name="home"),
    path("orgs/new/", org.create_org, name="org_create"),
    path("invitations/<str:token>/", invitations.invitation, name="invitation"),
    path(f"{o}leave/", org.leave_org, name="org_leave"),
    path(s, org.settings_index, name="settings"),
    path(f"{s}general/", org.org_settings, name="org_settings"),
    path(f"{s}usage/", org.usage_page, name="usage"),
    path(f"{s}audit-log/", org.audit_log, name="audit_log"),
    path(f"{s}members/", members.members, name="members"),
    path(f"{s}members/invite/", members.invite_member, name="member_invite"),
    path(f"{s}members/<int:membership_id>/role/", members.change_member_role, name="member_role"),
    path(f"{s}members/<int:membership_id>/remove/", members.remove_member, name="member_remove"),
    path(
        f"{s}invitations/<int:invitation_id>/revoke/",
        members.revoke_invitation,
        name="invitation_revoke",
    ),
    path(f"{s}api-keys/", api_keys.api_keys, name="api_keys"),
    path(f"{s}api-keys/new/", api_keys.create_api_key, name="api_key_create"),
    path(f"{s}api-keys/<int:key_id>/revoke/", api_keys.revoke_api_key, name="api_key_revoke"),
    path(f"{s}webhooks/", webhooks.webhooks, name="webhooks"),
    path(f"{s}webhooks/new/", webhooks.create_webhook, name="webhook_create"),
    path(f"{s}webhooks/<int:endpoint_id>/", webhooks.webhook_detail, name="webhook_detail"),
    path(f"{s}webhooks/<int:endpoint_id>/test/", webhooks.test_webhook, name="webhook_test"),
    path(f"{s}webhooks/<int:endpoint_id>/enable/", webhooks.enable_webhook, name="webhook_enable"),
    path(f"{s}webhooks/<int:endpoint_id>/delete/", webhooks.delete_webhook, name="webhook_delete"),
]
