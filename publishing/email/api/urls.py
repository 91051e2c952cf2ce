from rest_framework.routers import DefaultRouter

from publishing.email.api.views import (
    ABTestViewSet,
    DeliveryViewSet,
    EmailBlockViewSet,
    EmailCampaignViewSet,
    EmailTemplateViewSet,
)

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False  # GET /api/ lists every app's endpoints (aicmo_site.api.root)
router.register("email-templates", EmailTemplateViewSet, basename="emailtemplate")
router.register("email-blocks", EmailBlockViewSet, basename="emailblock")
router.register("email-campaigns", EmailCampaignViewSet, basename="emailcampaign")
router.register("deliveries", DeliveryViewSet, basename="emaildelivery")
router.register("ab-tests", ABTestViewSet, basename="abtest")

urlpatterns = router.urls
