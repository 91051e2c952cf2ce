from django.apps import AppConfig


class AutomationConfig(AppConfig):
    """Journeys: contacts carried step by step through waits, conditions and actions. Between
    publishing (whose email sender it feeds) and analytics (which reports on it)."""

    name = "automation"
    verbose_name = "Automation"
