from rest_framework.routers import DefaultRouter

from alerts.api.views import AlertChannelViewSet, AlertViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("alerts", AlertViewSet, basename="alert")
router.register("alert-channels", AlertChannelViewSet, basename="alert-channel")

urlpatterns = router.urls
