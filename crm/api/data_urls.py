"""API routes for getting data in and out of the CRM (imports, exports, access, erasure)."""

from rest_framework.routers import DefaultRouter

router = DefaultRouter(trailing_slash=True)

urlpatterns = router.urls
