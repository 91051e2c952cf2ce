from aicmo_site.api.routers import ApiRouter
from automation.api.views import JourneyViewSet

router = ApiRouter()
router.include_root_view = False
router.register("journeys", JourneyViewSet, basename="journey")

urlpatterns = router.urls
