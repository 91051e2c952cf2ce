import django_filters

from aicmo_site.api.filters import FilterSet
from gateways.capabilities import Capability
from gateways.models import ProviderAccount


class ProviderAccountFilterSet(FilterSet):
    capability = django_filters.ChoiceFilter(choices=Capability.CHOICES)

    class Meta:
        model = ProviderAccount
        fields = ("capability", "adapter", "enabled", "channel")
