from django.apps import AppConfig


class PublishingConfig(AppConfig):
    name = "publishing"
    verbose_name = "Publishing"

    def ready(self):
        from crm.privacy import contact_erased
        from publishing.email.privacy import on_contact_erased

        contact_erased.connect(on_contact_erased, dispatch_uid="publishing.email.privacy")

        from gateways.capabilities import Capability
        from gateways.readiness import register_use
        from publishing.email.selectors import sends_needing_a_provider
        from publishing.selectors import jobs_needing_a_provider

        register_use(Capability.EMAIL_SENDING, sends_needing_a_provider)
        register_use(Capability.CHANNEL_POSTING, jobs_needing_a_provider)
