from django.apps import AppConfig


class PublishingConfig(AppConfig):
    name = "publishing"
    verbose_name = "Publishing"

    def ready(self):
        from crm.privacy import contact_erased
        from publishing.email.privacy import on_contact_erased

        contact_erased.connect(on_contact_erased, dispatch_uid="publishing.email.privacy")
