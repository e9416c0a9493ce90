"""Public routes of campaign email (no login): unsubscribe, open pixel, click redirect."""

from django.urls import path

from campaigns import public_views

app_name = "campaigns"

urlpatterns = [
    path("u/<str:token>/", public_views.unsubscribe, name="unsubscribe"),
    path("t/o/<str:token>.gif", public_views.open_pixel, name="open"),
    path("t/c/<str:token>/", public_views.click, name="click"),
]
