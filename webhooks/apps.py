from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """Outgoing signed webhooks for business events. Sits just above gateways so that every domain app
    (crm, media, publishing, analytics) may emit; it knows none of them."""

    name = "webhooks"
    verbose_name = "Webhooks"
