"""The bounds every API input is held to, as serializer field types shared by all apps.

A value the database cannot hold must be refused as a 400 naming the field (or a 404 for a path id),
never reach a query: SQLite and PostgreSQL store at most a signed 64-bit integer, and an id beyond
that raised OverflowError (500) in the driver rather than finding nothing.
"""

import datetime as dt

from django.db import models
from rest_framework import serializers

DB_INTEGER_MAX = 2**63 - 1
DB_INTEGER_MIN = -(2**63)
# Reports and schedules work on calendar dates; a year outside these overflowed date arithmetic.
EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(2999, 12, 31)
# The longest list one request may carry (ids to tag, contacts to enrich...).
LIST_MAX_LENGTH = 1000


class IdField(serializers.IntegerField):
    """The id of a stored row: a positive 64-bit integer."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", DB_INTEGER_MAX)
        super().__init__(**kwargs)


class ListField(serializers.ListField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", LIST_MAX_LENGTH)
        super().__init__(**kwargs)


class IdListField(ListField):
    def __init__(self, **kwargs):
        kwargs.setdefault("child", IdField())
        super().__init__(**kwargs)


class PrimaryKeyField(serializers.PrimaryKeyRelatedField):
    """A related row by id, the id bounded before any query."""

    def __init__(self, **kwargs):
        kwargs.setdefault("pk_field", IdField())
        super().__init__(**kwargs)


class DateField(serializers.DateField):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators.append(_date_in_range)


class DateTimeField(serializers.DateTimeField):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators.append(_date_in_range)


def _date_in_range(value: dt.date) -> None:
    day = value.date() if isinstance(value, dt.datetime) else value
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise serializers.ValidationError(
            f"Give a date between {EARLIEST_DATE.isoformat()} and {LATEST_DATE.isoformat()}.")


class ModelSerializer(serializers.ModelSerializer):
    """The base of every model serializer: related rows by bounded id, dates and times within range (the model's
    integer fields already carry the database's bounds as validators)."""

    serializer_related_field = PrimaryKeyField
    serializer_field_mapping = {**serializers.ModelSerializer.serializer_field_mapping, models.DateField: DateField,
                                models.DateTimeField: DateTimeField}
