from aicmo_site.api.routers import ApiRouter
from automation.api.views import JourneyViewSet, TaskViewSet

router = ApiRouter()
router.include_root_view = False
router.register("journeys", JourneyViewSet, basename="journey")
router.register("tasks", TaskViewSet, basename="task")

urlpatterns = router.urls
