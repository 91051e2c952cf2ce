from rest_framework.routers import DefaultRouter

from media.api.views import AssetViewSet, LibraryViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False  # GET /api/ lists every app's endpoints (aicmo_site.api.root)
router.register("libraries", LibraryViewSet, basename="media-library")
router.register("assets", AssetViewSet, basename="media-asset")

urlpatterns = router.urls
