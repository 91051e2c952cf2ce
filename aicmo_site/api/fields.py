"""The bounds every API input is held to, as serializer field types shared by all apps.

A value the database cannot hold must be refused as a 400 naming the field (or a 404 for a path id),
never reach a query: SQLite and PostgreSQL store at most a signed 64-bit integer, and an id beyond
that raised OverflowError (500) in the driver rather than finding nothing.
"""

import datetime as dt

from django.db import models
from rest_framework import serializers

from aicmo_site.bounds import DB_INTEGER_MAX

# Reports and schedules work on calendar dates; a year outside these overflowed date arithmetic.
EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(2999, 12, 31)
# The longest list one request may carry (ids to tag, contacts to enrich...).
LIST_MAX_LENGTH = 1000
# The longest free text a model's TextField takes (a whole e-mail's HTML fits many times over).
TEXT_MAX_LENGTH = 1_000_000


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


class JSONField(serializers.JSONField):
    """JSON without NUL characters in any key or string: PostgreSQL's jsonb refuses them, and the whole
    statement would fail. A form's "null" text is null too (DRF parses it after its own null check)."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if value is None and not self.allow_null:
            self.fail("null")
        if _holds_nul(value):
            raise serializers.ValidationError("Text in this JSON cannot contain NUL characters.")
        return value


def _holds_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(key) or _holds_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False


class ModelSerializer(serializers.ModelSerializer):
    """The base of every model serializer: related rows by bounded id, dates and times within range, JSON
    without NUL, long text bounded (the model's integer fields already carry the database's bounds)."""

    serializer_related_field = PrimaryKeyField
    serializer_field_mapping = {**serializers.ModelSerializer.serializer_field_mapping, models.DateField: DateField,
                                models.DateTimeField: DateTimeField, models.JSONField: JSONField}

    def build_standard_field(self, field_name, model_field):
        field_class, kwargs = super().build_standard_field(field_name, model_field)
        if isinstance(model_field, models.TextField) and "max_length" not in kwargs and "choices" not in kwargs:
            kwargs["max_length"] = TEXT_MAX_LENGTH
        return field_class, kwargs
