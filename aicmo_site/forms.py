"""Form fields of the back office and the FilterSets that pick rows by id: an id no row can hold (past
64 bits) is refused as an invalid choice before the queryset is asked for it (SQLite's driver raised
OverflowError, a 500)."""

from django import forms

from aicmo_site.bounds import DB_INTEGER_MAX


def stored_id(value) -> int | None:
    """The id a submitted value names, or None when no row can have it."""
    text = str(value).strip()
    if not text.isdigit() or len(text) > 19:
        return None
    number = int(text)
    return number if 1 <= number <= DB_INTEGER_MAX else None


class BoundedIds:
    def clean(self, value):
        values = value if isinstance(value, list | tuple) else [value]
        for item in values:
            if item in self.empty_values or not str(item).strip().lstrip("-").isdigit():
                continue  # not a number: the field's own lookup refuses it as before
            if stored_id(item) is None:
                raise forms.ValidationError(f"{item} is not a valid id.", code="invalid_choice")
        return super().clean(value)


class ModelChoiceField(BoundedIds, forms.ModelChoiceField):
    pass


class ModelMultipleChoiceField(BoundedIds, forms.ModelMultipleChoiceField):
    pass
