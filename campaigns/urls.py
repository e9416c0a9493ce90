"""Routes of the campaigns app: the public ones reached from email (no login: unsubscribe,
open pixel, click redirect) and the pages under /o/<org>/campaigns/."""

from django.urls import path

from campaigns import public_views, views

app_name = "campaigns"

urlpatterns = [
    path("u/<str:token>/", public_views.unsubscribe, name="unsubscribe"),
    path("t/o/<str:token>.gif", public_views.open_pixel, name="open"),
    path("t/c/<str:token>/", public_views.click, name="click"),
]

_c = "o/<slug:org_slug>/campaigns/"
urlpatterns += [
    path(_c, views.campaign_list, name="list"),
    path(f"{_c}new/", views.campaign_edit, name="new"),
    path(f"{_c}<int:campaign_id>/", views.campaign_detail, name="detail"),
    path(f"{_c}<int:campaign_id>/edit/", views.campaign_edit, name="edit"),
    path(f"{_c}<int:campaign_id>/<str:action>/", views.campaign_action, name="action"),
    path(f"{_c}add-leads/", views.enroll_from_leads, name="enroll_from_leads"),
    path(f"{_c}senders/", views.sender_list, name="senders"),
    path(f"{_c}senders/new/", views.sender_edit, name="sender_new"),
    path(f"{_c}senders/<int:sender_id>/", views.sender_edit, name="sender_edit"),
    path(
        f"{_c}senders/<int:sender_id>/domain/<str:action>/",
        views.sender_domain,
        name="sender_domain",
    ),
]
