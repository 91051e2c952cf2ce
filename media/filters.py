import django_filters
from django.db.models import Q

from aicmo_site.api.filters import FilterSet
from media.choices import AssetKindChoices, AssetStatusChoices, OrientationChoices
from media.models import Asset, Library

ASSET_SORTS = {
    "newest": ("-created_at", "-id"),
    "oldest": ("created_at", "id"),
    "name": ("name", "id"),
    "largest": ("-size_bytes", "-id"),
}


class AssetFilterSet(FilterSet):
    library = django_filters.ModelChoiceFilter(queryset=Library.objects.all())
    tag = django_filters.CharFilter(method="filter_tag", label="Tag")
    kind = django_filters.ChoiceFilter(choices=AssetKindChoices.choices)
    status = django_filters.ChoiceFilter(choices=AssetStatusChoices.choices)
    orientation = django_filters.ChoiceFilter(choices=OrientationChoices.choices)
    q = django_filters.CharFilter(method="filter_search", label="Search")

    class Meta:
        model = Asset
        fields = ["library", "tag", "kind", "status", "orientation", "q"]

    def filter_tag(self, queryset, name, value):
        return queryset.filter(tags__name=value.strip().lower())

    def filter_search(self, queryset, name, value):
        words = value.split()
        for word in words:
            queryset = queryset.filter(
                Q(name__icontains=word) | Q(alt_text__icontains=word) | Q(description__icontains=word)
                | Q(tags__name__iexact=word)
            )
        return queryset.distinct() if words else queryset
