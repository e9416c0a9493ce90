from allauth.account import views as allauth_views
from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config import views
from config.ratelimits import login_rate_limited, signup_rate_limited
from leads.views.dashboard import dashboard as leads_dashboard

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    # Per-IP limits in front of allauth's forms (allauth keeps its own limits too).
    path("accounts/login/", login_rate_limited(allauth_views.login), name="account_login"),
    path("accounts/signup/", signup_rate_limited(allauth_views.signup), name="account_signup"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("config.api_urls")),
    # Unknown API paths answer with the error shape, in DEBUG too (not Django's HTML page).
    re_path(r"^api/v1/", views.api_not_found),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="api_docs.html"),
        name="api-docs",
    ),
    path("", include("leads.urls")),
    path("", include("enrichment.urls")),
    path("", include("campaigns.urls")),
    path("", include("agents.urls")),
    # The organization's home page is the leads dashboard; accounts code links to "dashboard".
    path("o/<slug:org_slug>/", leads_dashboard, name="dashboard"),
    path("", include("accounts.urls")),
]

handler400 = "config.views.bad_request"
handler403 = "config.views.permission_denied"
handler404 = "config.views.page_not_found"
handler500 = "config.views.server_error"

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
