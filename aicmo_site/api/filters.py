"""The base of every FilterSet (API lists and back-office pages): numbers and ids in query strings are
bounded to what the database holds, so an out-of-range filter is a 400 naming it, not a 500."""

import django_filters
from django import forms
from django_filters import fields as filter_fields
from django_filters.rest_framework import DjangoFilterBackend

from aicmo_site.api.fields import DB_INTEGER_MAX, DB_INTEGER_MIN


class _BoundedIds:
    """Refuses ids no row can have before the queryset is asked for them."""

    def clean(self, value):
        values = value if isinstance(value, list | tuple) else [value]
        for item in values:
            if item in self.empty_values:
                continue
            try:
                number = int(str(item))
            except ValueError:
                continue
            if not DB_INTEGER_MIN <= number <= DB_INTEGER_MAX:
                raise forms.ValidationError(f"{item} is not a valid id.", code="invalid_choice")
        return super().clean(value)


class _BoundedModelChoiceField(_BoundedIds, filter_fields.ModelChoiceField):
    pass


class _BoundedModelMultipleChoiceField(_BoundedIds, filter_fields.ModelMultipleChoiceField):
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
