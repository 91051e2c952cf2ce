from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = "Analytics"

    def ready(self):
        from analytics.privacy import on_contact_erased
        from crm.privacy import contact_erased

        contact_erased.connect(on_contact_erased, dispatch_uid="analytics.privacy")
