"""Subscription forms built in the back office, and what people sent through them (the consent record)."""

from django.conf import settings
from django.core.validators import MaxValueValidator, URLValidator
from django.db import models

# The contact fields a form may ask for, in the order a form shows them. "company" has no column of its
# own on a contact (a contact's company is found from its email's domain), so it is kept in custom_fields.
STANDARD_FIELDS = {
    "first_name": "First name",
    "last_name": "Last name",
    "company": "Company",
    "job_title": "Job title",
    "phone": "Phone",
    "city": "City",
    "country": "Country",
}
FORM_FIELD_CHOICES = list(STANDARD_FIELDS.items())


class SubscriptionForm(models.Model):
    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=60, unique=True, help_text="Part of the public address: /f/<slug>/")
    fields = models.JSONField(default=list, blank=True, help_text="Contact fields asked besides the email")
    required_fields = models.JSONField(default=list, blank=True, help_text="Which of the fields must be filled")
    custom_fields = models.JSONField(default=list, blank=True,
                                     help_text='Extra questions stored on the contact: [{"key": ..., "label": ...}]')
    topics = models.ManyToManyField("crm.Topic", blank=True, related_name="subscription_forms",
                                    help_text="Topics the subscriber may pick")
    tags = models.ManyToManyField("crm.Tag", blank=True, related_name="subscription_forms",
                                  help_text="Tags given to everyone who subscribes through the form")
    lists = models.ManyToManyField("crm.ContactList", blank=True, related_name="subscription_forms",
                                   help_text="Static lists everyone who subscribes through the form is put on")
    consent_text = models.TextField(help_text="Shown beside the button; kept word for word with each consent")
    thank_you_message = models.TextField(blank=True, help_text="Shown after sending, unless a redirect is given")
    redirect_url = models.URLField(blank=True, validators=[URLValidator(schemes=["http", "https"])],
                                   verbose_name="Redirect URL", help_text="Where people go after sending (optional)")
    double_opt_in = models.BooleanField(default=True, help_text="Subscribe only once the emailed link is opened")
    allowed_origins = models.JSONField(default=list, blank=True,
                                       help_text="Sites that may embed the form, e.g. https://www.example.com")
    min_seconds = models.PositiveSmallIntegerField(
        default=3, validators=[MaxValueValidator(600)], verbose_name="Minimum seconds to fill",
        help_text="A form sent sooner after it was shown is taken for a bot: it looks sent but nothing is kept")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class FormSubmission(models.Model):
    """One person's sending of a form, and once confirmed, their consent record: everything GDPR asks to
    show (when, from where, through which form, the very text they agreed to, what they chose) is copied
    here, not referenced, so editing the form later changes no record.

    The confirmation email is an outbox on the row: claimed (confirmation_claimed_at) before it is handed
    to the provider and marked sent after, by a conditional UPDATE, so a retried task never sends twice; a
    claim without a sent time is an outcome unknown and is left alone."""

    form = models.ForeignKey(SubscriptionForm, on_delete=models.PROTECT, related_name="submissions")
    contact = models.ForeignKey("crm.Contact", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="form_submissions")
    email = models.EmailField(max_length=254)
    answers = models.JSONField(default=dict, blank=True, help_text="The fields as sent")
    topics = models.JSONField(default=list, blank=True, help_text="Slugs of the topics chosen")
    consent_text = models.TextField(help_text="The consent text as shown when the form was sent")
    ip = models.GenericIPAddressField(null=True, blank=True, verbose_name="IP address")
    user_agent = models.CharField(max_length=400, blank=True)
    origin = models.CharField(max_length=200, blank=True, help_text="The site the form was sent from")
    submitted_at = models.DateTimeField(db_index=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_ip = models.GenericIPAddressField(null=True, blank=True, verbose_name="IP address at confirmation")
    confirmed_user_agent = models.CharField(max_length=400, blank=True)
    confirmation_claimed_at = models.DateTimeField(null=True, blank=True)
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)
    confirmation_message_id = models.CharField(max_length=200, blank=True)
    confirmation_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        indexes = [
            # The form page's unconfirmed list and counts.
            models.Index(fields=["form", "confirmed_at", "submitted_at"], name="crm_formsub_form_confirmed"),
        ]

    def __str__(self) -> str:
        return f"{self.email} · {self.form_id} · {self.submitted_at:%Y-%m-%d %H:%M}"

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None
