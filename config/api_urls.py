"""Every /api/v1/ route. Apps add their viewsets to the router here."""

from rest_framework.routers import DefaultRouter

router = DefaultRouter(trailing_slash="/?")
router.include_root_view = False

urlpatterns = [
    *router.urls,
]
