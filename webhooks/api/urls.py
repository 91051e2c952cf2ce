from rest_framework.routers import DefaultRouter

from webhooks.api.views import WebhookMessageViewSet, WebhookSubscriptionViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("webhook-subscriptions", WebhookSubscriptionViewSet, basename="webhook-subscription")
router.register("webhook-messages", WebhookMessageViewSet, basename="webhook-message")

urlpatterns = router.urls
