from django import forms
from django.core.exceptions import ValidationError

from aicmo_site.errors import DomainError
from aicmo_site.forms import ModelChoiceField, ModelMultipleChoiceField
from media.choices import AssetKindChoices, AssetStatusChoices, OrientationChoices
from media.filters import ASSET_SORTS
from media.models import Asset, Library
from media.validation import check_upload


class UploadForm(forms.Form):
    """The files themselves come from request.FILES.getlist("files"): each is checked by the service."""

    library = ModelChoiceField(queryset=Library.objects.order_by("name"))


class GridFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search", widget=forms.TextInput(
        attrs={"type": "search", "placeholder": "Search assets", "aria-label": "Search"}))
    library = ModelChoiceField(
        queryset=Library.objects.order_by("name"), required=False, empty_label="All libraries"
    )
    tag = forms.CharField(required=False)
    kind = forms.ChoiceField(choices=[("", "Any type"), *AssetKindChoices.choices], required=False)
    status = forms.ChoiceField(choices=[("", "Any status"), *AssetStatusChoices.choices], required=False)
    orientation = forms.ChoiceField(choices=[("", "Any orientation"), *OrientationChoices.choices], required=False)
    sort = forms.ChoiceField(choices=[(key, key.title()) for key in ASSET_SORTS], required=False)


class AssetMetadataForm(forms.ModelForm):
    tags = forms.CharField(required=False, help_text="Comma-separated.")

    class Meta:
        model = Asset
        fields = ["name", "library", "alt_text", "description", "licence", "usage_rights", "rights_expire_on"]
        widgets = {"rights_expire_on": forms.DateInput(attrs={"type": "date"}),
                   "description": forms.Textarea(attrs={"rows": 3}), "usage_rights": forms.Textarea(attrs={"rows": 2})}

    def clean_tags(self):
        return [name.strip() for name in self.cleaned_data["tags"].split(",") if name.strip()]


class NoteForm(forms.Form):
    action = forms.ChoiceField(choices=[(a, a) for a in ("submit", "approve", "reject", "archive", "restore")])
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class FocalPointForm(forms.Form):
    x = forms.FloatField(min_value=0.0, max_value=1.0)
    y = forms.FloatField(min_value=0.0, max_value=1.0)


class BulkForm(forms.Form):
    action = forms.ChoiceField(choices=[("tag", "Add tag"), ("approve", "Approve")])
    ids = ModelMultipleChoiceField(queryset=Asset.objects.all())
    tag = forms.CharField(required=False)

    def clean(self):
        data = super().clean()
        if data.get("action") == "tag" and not data.get("tag", "").strip():
            self.add_error("tag", "Name the tag to add.")
        return data


class AdminUploadForm(forms.ModelForm):
    """The admin's add page: a file checked like every other upload, then stored by asset_upload."""

    upload = forms.FileField(label="File")

    class Meta:
        model = Asset
        fields = ["library", "name", "alt_text"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].required = False

    def clean_upload(self):
        try:
            check_upload(self.cleaned_data["upload"])
        except DomainError as error:
            raise ValidationError(error.message, code=error.code)
        return self.cleaned_data["upload"]
