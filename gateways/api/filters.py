import django_filters

from gateways.capabilities import Capability
from gateways.models import ProviderAccount


class ProviderAccountFilterSet(django_filters.FilterSet):
    capability = django_filters.ChoiceFilter(choices=Capability.CHOICES)

    class Meta:
        model = ProviderAccount
        fields = ("capability", "adapter", "enabled", "channel")
