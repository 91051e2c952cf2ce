from django.urls import path

from aicmo_site.api.routers import ApiRouter
from publishing.email.api.views import (
    ABTestViewSet,
    BrandKitView,
    DeliveryViewSet,
    EmailBlockViewSet,
    EmailCampaignViewSet,
    EmailLayoutViewSet,
    EmailTemplateViewSet,
)

router = ApiRouter()
router.include_root_view = False  # GET /api/ lists every app's endpoints (aicmo_site.api.root)
router.register("email-templates", EmailTemplateViewSet, basename="emailtemplate")
router.register("email-layouts", EmailLayoutViewSet, basename="emaillayout")
router.register("email-blocks", EmailBlockViewSet, basename="emailblock")
router.register("email-campaigns", EmailCampaignViewSet, basename="emailcampaign")
router.register("deliveries", DeliveryViewSet, basename="emaildelivery")
router.register("ab-tests", ABTestViewSet, basename="abtest")

urlpatterns = [*router.urls, path("brand-kit/", BrandKitView.as_view(), name="brand-kit")]
