from django import forms

from webhooks.events_catalogue import EVENT_CHOICES


class WebhookSubscriptionForm(forms.Form):
    name = forms.CharField(max_length=120, help_text="Who receives these events.")
    url = forms.URLField(max_length=500, label="URL", assume_scheme="https",
                         help_text="Each event is POSTed here, signed (Standard Webhooks).")
    events = forms.MultipleChoiceField(choices=EVENT_CHOICES, widget=forms.CheckboxSelectMultiple,
                                       help_text="The events sent to this URL.")
