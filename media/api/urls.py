from aicmo_site.api.routers import ApiRouter
from media.api.views import AssetViewSet, LibraryViewSet

router = ApiRouter()
router.include_root_view = False  # GET /api/ lists every app's endpoints (aicmo_site.api.root)
router.register("libraries", LibraryViewSet, basename="media-library")
router.register("assets", AssetViewSet, basename="media-asset")

urlpatterns = router.urls
