"""The base of every FilterSet (API lists and back-office pages): numbers and ids in query strings are
bounded to what the database holds, so an out-of-range filter is a 400 naming it, not a 500."""

import django_filters
from django_filters import fields as filter_fields
from django_filters.rest_framework import DjangoFilterBackend

from aicmo_site.bounds import DB_INTEGER_MAX, DB_INTEGER_MIN
from aicmo_site.forms import BoundedIds


class _BoundedModelChoiceField(BoundedIds, filter_fields.ModelChoiceField):
    pass


class _BoundedModelMultipleChoiceField(BoundedIds, filter_fields.ModelMultipleChoiceField):
    pass


def _bound(filter_):
    if isinstance(filter_, django_filters.NumberFilter):
        filter_.extra.setdefault("min_value", DB_INTEGER_MIN)
        filter_.extra.setdefault("max_value", DB_INTEGER_MAX)
    elif isinstance(filter_, django_filters.ModelMultipleChoiceFilter):
        filter_.field_class = _BoundedModelMultipleChoiceField
    elif isinstance(filter_, django_filters.ModelChoiceFilter):
        filter_.field_class = _BoundedModelChoiceField


class FilterSet(django_filters.FilterSet):
    @classmethod
    def get_filters(cls):
        filters = super().get_filters()
        for filter_ in filters.values():
            _bound(filter_)
        return filters


class FilterBackend(DjangoFilterBackend):
    """Filtersets a view declares only by `filterset_fields` get the same bounds."""

    filterset_base = FilterSet
