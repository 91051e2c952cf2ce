from aicmo_site.api.routers import ApiRouter
from webhooks.api.views import WebhookMessageViewSet, WebhookSubscriptionViewSet

router = ApiRouter()
router.include_root_view = False
router.register("webhook-subscriptions", WebhookSubscriptionViewSet, basename="webhook-subscription")
router.register("webhook-messages", WebhookMessageViewSet, basename="webhook-message")

urlpatterns = router.urls
