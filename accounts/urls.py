from django.urls import path

from accounts import views

urlpatterns = [
    path("", views.home, name="home"),
    path("o/<slug:org_slug>/", views.dashboard, name="dashboard"),
]
