from django.db.models import Count, Max, Q, QuerySet

from webhooks.models import MessageStatus, WebhookMessage, WebhookSubscription


def subscription_list() -> QuerySet[WebhookSubscription]:
    """Subscriptions with how their messages are doing, for the page and the API."""
    return WebhookSubscription.objects.annotate(
        pending_count=Count("messages", filter=Q(messages__status=MessageStatus.PENDING)),
        failed_count=Count("messages", filter=Q(messages__status=MessageStatus.FAILED)),
        last_delivered_at=Max("messages__delivered_at"),
    ).order_by("name", "pk")


def message_list(*, subscription: WebhookSubscription | None = None, status: str = "",
                 event: str = "") -> QuerySet[WebhookMessage]:
    messages = WebhookMessage.objects.select_related("subscription").prefetch_related("deliveries")
    if subscription is not None:
        messages = messages.filter(subscription=subscription)
    if status:
        messages = messages.filter(status=status)
    if event:
        messages = messages.filter(event=event)
    return messages.order_by("-created", "-pk")
