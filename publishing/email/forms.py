"""Back-office forms of email: a template's fields, a preview as a contact, and a test send to chosen
addresses."""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models

from crm.models import Contact
from crm.services.contacts import email_normalise
from media.choices import AssetKindChoices
from media.selectors import assets_approved
from publishing.email.choices import TemplateFormat
from publishing.email.models import BrandKit, EmailLayout, EmailTemplate
from publishing.email.services.brand import BRAND_KIT_FIELDS, LAYOUT_FIELDS
from publishing.email.services.templates import TEMPLATE_FIELDS

TEST_SEND_LIMIT = 20


class EmailPreviewForm(forms.Form):
    contact = forms.EmailField(required=False, label="Preview as",
                               help_text="A contact's email address; leave empty for sample data.")

    def clean_contact(self):
        email = self.cleaned_data["contact"]
        if not email:
            return None
        contact = Contact.objects.filter(email=email_normalise(email)).first()
        if contact is None:
            raise ValidationError("No contact has this address.")
        return contact


class EmailTestSendForm(EmailPreviewForm):
    to = forms.CharField(label="Send a test to", widget=forms.Textarea(attrs={"rows": 2}),
                         help_text=f"Up to {TEST_SEND_LIMIT} addresses, separated by commas or new lines.")

    def clean_to(self):
        addresses = [a for a in re.split(r"[\s,;]+", self.cleaned_data["to"]) if a]
        wrong = []
        for address in addresses:
            try:
                validate_email(address)
            except ValidationError:
                wrong.append(address)
        if wrong:
            raise ValidationError(f"Not an email address: {', '.join(wrong)}.")
        if len(addresses) > TEST_SEND_LIMIT:
            raise ValidationError(f"A test goes to at most {TEST_SEND_LIMIT} addresses; {len(addresses)} were given.")
        return list(dict.fromkeys(addresses))


class FormatOptional(forms.ModelForm):
    """Written before MJML existed, a form without the choice of format means HTML, as every template was."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["format"].required = False
        self.fields["layout"].empty_label = "None: the body is the whole email"

    def clean_format(self):
        return self.cleaned_data["format"] or TemplateFormat.HTML


class EmailTemplateForm(FormatOptional):
    """Checks the fields' own limits only; the services check the template syntax, so the pages show
    what they refuse on the field it concerns."""

    class Meta:
        model = EmailTemplate
        fields = list(TEMPLATE_FIELDS)
        widgets = {"html_body": forms.Textarea(attrs={"rows": 18, "spellcheck": "false"}),
                   "text_body": forms.Textarea(attrs={"rows": 8})}
        labels = {"text_body": "Plain-text body"}
        help_texts = {"text_body": "Optional: when empty, it is generated from the HTML body."}


def _https_by_default(field, **kwargs):
    if isinstance(field, models.URLField):
        kwargs["assume_scheme"] = "https"
    return field.formfield(**kwargs)


class BrandKitForm(forms.ModelForm):
    """The logo is picked by name among the approved images of the asset library; a social link typed
    without its scheme is taken as https."""

    class Meta:
        formfield_callback = _https_by_default
        model = BrandKit
        fields = list(BRAND_KIT_FIELDS)
        widgets = {**{name: forms.TextInput(attrs={"type": "color"}) for name in (
            "primary_colour", "secondary_colour", "text_colour", "background_colour")},
            "footer_address": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        logo = self.fields["logo"]
        logo.queryset = assets_approved().filter(kind=AssetKindChoices.IMAGE).order_by("name")
        logo.empty_label = "No logo"


class EmailLayoutForm(forms.ModelForm):
    """Checks the fields' own limits only; the services check the layout in the sandbox and against the
    templates written in it."""

    class Meta:
        model = EmailLayout
        fields = list(LAYOUT_FIELDS)
        widgets = {"body": forms.Textarea(attrs={"rows": 20, "spellcheck": "false"})}
