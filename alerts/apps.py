from django.apps import AppConfig


class AlertsConfig(AppConfig):
    """Operational alerts. At the top of the house: its rules read every other app."""

    name = "alerts"
    verbose_name = "Alerts"
