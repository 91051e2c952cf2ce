from django import forms
from django.urls import reverse_lazy

from crm.models import CityWeather
from media.choices import AssetStatusChoices
from media.models import Asset
from publishing.choices import ContentKind, WeatherCondition
from publishing.formatters import kind_choices
from publishing.models import Channel


def _words(value: str) -> list[str]:
    return [w.strip() for w in (value or "").split(",") if w.strip()]


class LibraryAssetsField(forms.ModelMultipleChoiceField):
    """Approved library assets. The page draws the picker itself (publishing/media_picker.py: search and
    pages, never every asset at once); the field only checks that each id sent is an approved asset. The
    forms call it `assets`, since a form's `media` is its own scripts and styles; the services take `media`."""

    def __init__(self, **kwargs):
        queryset = Asset.objects.filter(status=AssetStatusChoices.APPROVED).order_by("name", "pk")
        super().__init__(queryset=queryset, required=False, widget=forms.CheckboxSelectMultiple, **kwargs)

    def label_from_instance(self, obj) -> str:
        return obj.name


class ContentForm(forms.Form):
    kind = forms.ChoiceField(label="Type", choices=ContentKind.choices)
    title = forms.CharField(max_length=300)
    summary = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 14}), required=False, help_text="Markdown.")
    tags = forms.CharField(required=False, help_text="Comma-separated.")
    categories = forms.CharField(required=False, help_text="Comma-separated.")
    link_url = forms.URLField(label="Link", required=False, assume_scheme="https")
    urgent = forms.BooleanField(required=False, help_text="Its posts go out before every other waiting post "
                                                          "(an outage notice, a correction).")
    assets = LibraryAssetsField(label="Images and videos",
                                help_text="Approved assets of the library; new channel versions start with them.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # While the author types, the server renders the preview beside the text (htmx, see the template).
        self.fields["body"].widget.attrs.update({
            "hx-post": reverse_lazy("publishing:content-preview"), "hx-trigger": "input changed delay:300ms",
            "hx-target": "#body-preview",
        })

    def clean_tags(self):
        return _words(self.cleaned_data["tags"])

    def clean_categories(self):
        return _words(self.cleaned_data["categories"])

    @classmethod
    def initial_for(cls, content) -> dict:
        return {"kind": content.kind, "title": content.title, "summary": content.summary, "body": content.body,
                "tags": ", ".join(content.tags), "categories": ", ".join(content.categories),
                "link_url": content.link_url, "urgent": content.urgent,
                "assets": [asset.pk for asset in content.media.all()]}


class VersionForm(forms.Form):
    title = forms.CharField(max_length=300, required=False)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 10}), required=False)
    hashtags = forms.CharField(required=False, help_text="Comma-separated, without #.")
    mentions = forms.CharField(required=False, help_text="Comma-separated.")
    cta_text = forms.CharField(label="Call to action", max_length=120, required=False)
    cta_url = forms.URLField(label="Call to action URL", required=False, assume_scheme="https")
    assets = LibraryAssetsField(label="Images and videos", help_text="Approved assets of the library.")

    def __init__(self, *args, typed_mentions: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not typed_mentions:
            # The channel links nobody from a typed @name: no field that would only make a problem.
            del self.fields["mentions"]

    def clean_hashtags(self):
        return [w.lstrip("#") for w in _words(self.cleaned_data["hashtags"])]

    def clean_mentions(self):
        return _words(self.cleaned_data["mentions"])

    @classmethod
    def initial_for(cls, version) -> dict:
        return {"title": version.title, "body": version.body, "hashtags": ", ".join(version.hashtags),
                "mentions": ", ".join(version.mentions), "cta_text": version.cta_text, "cta_url": version.cta_url,
                "assets": [asset.pk for asset in version.media.all()]}


class GenerateVersionsForm(forms.Form):
    kinds = forms.MultipleChoiceField(label="Channels", choices=(), widget=forms.CheckboxSelectMultiple)
    force = forms.BooleanField(required=False, label="Replace hand edits")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kinds"].choices = kind_choices()


class NoteForm(forms.Form):
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class WeatherHoldForm(forms.Form):
    city = forms.ModelChoiceField(queryset=CityWeather.objects.filter(found=True), label="City")
    condition = forms.ChoiceField(choices=WeatherCondition.choices, label="Weather")
    threshold = forms.FloatField(required=False, min_value=-90, max_value=60, label="Temperature (°C)")
    give_up_at = forms.DateTimeField(label="Give up at", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))


class CampaignWeatherHoldForm(WeatherHoldForm):
    channels = forms.ModelMultipleChoiceField(queryset=Channel.objects.none(), required=False,
                                              widget=forms.CheckboxSelectMultiple, label="Only on",
                                              help_text="None ticked: every post of the campaign is held.")

    def __init__(self, *args, campaign, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channels"].queryset = campaign.channels.order_by("name")


class MarkPublishedForm(forms.Form):
    url = forms.URLField(label="Address of the post", assume_scheme="https")
