from aicmo_site.api.routers import ApiRouter
from media.api.views import AssetViewSet, LibraryViewSet

router = ApiRouter()
router.register("libraries", LibraryViewSet, basename="media-library")
router.register("assets", AssetViewSet, basename="media-asset")

urlpatterns = router.urls
