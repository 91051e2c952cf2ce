from django.apps import AppConfig


class PublishingConfig(AppConfig):
    name = "publishing"
    verbose_name = "Publishing"

    def import_models(self):
        super().import_models()
        # The email package's models belong to this app (its tables and label are publishing's). They are
        # imported while Django loads every app's models, here rather than from publishing.models: the
        # email package builds on publishing.models, which so never depends on it.
        import publishing.email.models  # noqa: F401
        import publishing.push.models  # noqa: F401
        import publishing.sms.models  # noqa: F401

    def ready(self):
        from crm.privacy import contact_erased
        from publishing.email.privacy import on_contact_erased

        contact_erased.connect(on_contact_erased, dispatch_uid="publishing.email.privacy")
        from publishing.sms.privacy import on_contact_erased as on_contact_erased_sms

        contact_erased.connect(on_contact_erased_sms, dispatch_uid="publishing.sms.privacy")

        from crm.services.github import github_handler_register
        from publishing.github_releases import release_draft

        github_handler_register("release", release_draft)

        from gateways.capabilities import Capability
        from gateways.readiness import register_use
        from publishing.email.selectors import sends_needing_a_provider
        from publishing.selectors import jobs_needing_a_provider
        from publishing.sms.selectors import sms_sends_needing_a_provider

        register_use(Capability.EMAIL_SENDING, sends_needing_a_provider)
        register_use(Capability.CHANNEL_POSTING, jobs_needing_a_provider)
        register_use(Capability.SMS_SENDING, sms_sends_needing_a_provider)
