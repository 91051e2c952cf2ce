from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = "CRM"

    def ready(self):
        from functools import partial

        from crm.selectors import enrichment_runs_needing_providers
        from crm.services.github import github_handler_register
        from crm.services.repositories import release_from_webhook
        from gateways.capabilities import Capability
        from gateways.readiness import register_use

        register_use(Capability.LEAD_ENRICHMENT, partial(enrichment_runs_needing_providers, verification=False))
        register_use(Capability.EMAIL_VERIFICATION, partial(enrichment_runs_needing_providers, verification=True))
        github_handler_register("release", release_from_webhook)
