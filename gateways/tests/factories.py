import factory

from gateways import services
from gateways.capabilities import Capability
from gateways.models import ProviderAccount
from gateways.tests import fakes  # noqa: F401 - registers the test adapters


class ProviderAccountFactory(factory.Factory):
    """Accounts go through account_create, so credentials are encrypted and health rows exist."""

    class Meta:
        model = ProviderAccount

    capability = Capability.LEAD_ENRICHMENT
    adapter = "test_enrichment"
    name = factory.Sequence(lambda n: f"provider-{n}")
    priority = factory.Sequence(lambda n: 10 + n)
    enabled = True
    credentials = None
    rate_limit_count = None
    rate_limit_seconds = None
    settings = None
    base_url = ""

    @classmethod
    def _create(cls, model_class, **kwargs):
        return services.account_create(**kwargs)

    @classmethod
    def _build(cls, model_class, **kwargs):
        return services.account_create(**kwargs)
