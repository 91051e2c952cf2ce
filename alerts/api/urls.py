from aicmo_site.api.routers import ApiRouter
from alerts.api.views import AlertChannelViewSet, AlertViewSet

router = ApiRouter()
router.include_root_view = False
router.register("alerts", AlertViewSet, basename="alert")
router.register("alert-channels", AlertChannelViewSet, basename="alert-channel")

urlpatterns = router.urls
