"""Email campaigns' data: templates, the send of a campaign, its frozen deliveries, links, A/B tests
and inbound provider events. Workflows live in publishing/email/services."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models, transaction
from django.db.models import Q

from publishing.email.choices import (
    ABMetric,
    ABStatus,
    DeliveryStatus,
    InboundEventKind,
    SendStatus,
    TemplateFormat,
    TrackingHitKind,
)

__all__ = ["ABTest", "ABVariant", "BrandKit", "EmailBlock", "EmailCampaign", "EmailCampaignEvent", "EmailDelivery",
           "EmailLayout", "EmailLink", "EmailTemplate", "InboundEvent"]

colour_validator = RegexValidator(r"^#[0-9a-fA-F]{6}$", "A colour as #rrggbb, e.g. #1a73e8.")
# A CSS font stack: names, quotes, commas and spaces only, so a value can never close the style it sits in.
font_validator = RegexValidator(r"^[A-Za-z0-9 ,'\"-]+$", "Font names separated by commas, e.g. Georgia, serif.")


class BrandKit(models.Model):
    """The one brand of this installation (there are no teams): every email template and layout reads it
    as `brand.*` variables."""

    name = models.CharField(max_length=120, blank=True,
                            help_text="The sender's brand name, e.g. for the logo's alt text")
    logo = models.ForeignKey("media.Asset", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                             help_text="An approved image of the asset library")
    primary_colour = models.CharField(max_length=7, default="#1a56db", validators=[colour_validator])
    secondary_colour = models.CharField(max_length=7, default="#0e9f6e", validators=[colour_validator])
    text_colour = models.CharField(max_length=7, default="#1f2937", validators=[colour_validator])
    background_colour = models.CharField(max_length=7, default="#ffffff", validators=[colour_validator])
    heading_font = models.CharField(max_length=120, default="Georgia, 'Times New Roman', serif",
                                    validators=[font_validator])
    body_font = models.CharField(max_length=120, default="Helvetica, Arial, sans-serif", validators=[font_validator])
    footer_address = models.TextField(blank=True, verbose_name="Postal address for the footer",
                                      help_text="Commercial email must show a valid physical address (CAN-SPAM)")
    website_url = models.URLField(blank=True, verbose_name="Website")
    linkedin_url = models.URLField(blank=True, verbose_name="LinkedIn")
    x_url = models.URLField(blank=True, verbose_name="X (Twitter)")
    facebook_url = models.URLField(blank=True, verbose_name="Facebook")
    instagram_url = models.URLField(blank=True, verbose_name="Instagram")
    youtube_url = models.URLField(blank=True, verbose_name="YouTube")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "brand kit"

    def __str__(self) -> str:
        return self.name or "Brand kit"


class Written(models.Model):
    """What a person writes and names: a layout or a template."""

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class EmailLayout(Written):
    """A stored base layout: templates choosing it fill its named `{% block name %}` places. Only stored
    layouts can be extended, never files."""

    name = models.CharField(max_length=200, unique=True)
    format = models.CharField(max_length=4, choices=TemplateFormat.choices, default=TemplateFormat.HTML)
    body = models.TextField(help_text="Template syntax with {% block name %}default{% endblock %} places")


class EmailTemplate(Written):
    name = models.CharField(max_length=200)
    subject = models.CharField(max_length=300, help_text='Template syntax, e.g. "Hi {{ contact.first_name }}"')
    preheader = models.CharField(max_length=300, blank=True, help_text="The preview line shown after the subject")
    format = models.CharField(max_length=4, choices=TemplateFormat.choices, default=TemplateFormat.HTML,
                              help_text="MJML is compiled to responsive HTML when the email is rendered")
    layout = models.ForeignKey(EmailLayout, null=True, blank=True, on_delete=models.PROTECT, related_name="templates",
                               help_text="Empty: the body is the whole email; chosen: the body fills the layout's "
                                         "{% block %} places")
    html_body = models.TextField(verbose_name="HTML body")
    text_body = models.TextField(blank=True, help_text="Empty: generated from the HTML body")


class EmailBlock(models.Model):
    """A piece of content placed in `{{ blocks.<slot> }}` for contacts with any of its tags, segments or topics."""

    template = models.ForeignKey(EmailTemplate, on_delete=models.CASCADE, related_name="blocks")
    slot = models.SlugField(max_length=60, help_text="Where it goes: {{ blocks.<slot> }}")
    title = models.CharField(max_length=200, blank=True)
    html = models.TextField(verbose_name="HTML", help_text="Template syntax, like the body")
    tags = models.ManyToManyField("crm.Tag", blank=True, related_name="+",
                                  help_text="Shown to contacts with any of these tags")
    segments = models.ManyToManyField("crm.Segment", blank=True, related_name="+",
                                      help_text="…or in any of these segments")
    topics = models.ManyToManyField("crm.Topic", blank=True, related_name="+",
                                    help_text="…or following any of these topics; none of the three: everyone")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["template", "slot", "position", "id"]

    def __str__(self) -> str:
        return f"{self.slot}: {self.title or self.pk}"


class EmailCampaign(models.Model):
    """The email side of a publishing campaign: what is sent, from whom, and how far the send got."""

    campaign = models.OneToOneField("publishing.Campaign", on_delete=models.CASCADE, related_name="email")
    template = models.ForeignKey(EmailTemplate, on_delete=models.PROTECT, related_name="campaigns")
    from_email = models.EmailField(blank=True, help_text="Empty: the sending provider account's address")
    from_name = models.CharField(max_length=120, blank=True)
    reply_to = models.EmailField(blank=True)
    subject = models.CharField(max_length=300, blank=True, help_text="Empty: the template's subject")
    preheader = models.CharField(max_length=300, blank=True, help_text="Empty: the template's preview line")
    send_at = models.DateTimeField(null=True, blank=True, editable=False,
                                   help_text="When a scheduled send starts by itself; empty: started by hand")
    status = models.CharField(max_length=12, choices=SendStatus.choices, default=SendStatus.DRAFT, editable=False,
                              db_index=True)
    audience_size = models.PositiveIntegerField(default=0, editable=False, help_text="Deliveries frozen at send")
    deliver_at_best_hour = models.BooleanField(
        default=False, verbose_name="Deliver at each contact's best hour within the next 24 hours",
        help_text="Each delivery waits for the hour its contact usually opens email (else their segment's, "
                  "else everyone's); not with an A/B test")
    kept_open = models.BooleanField(
        default=False, editable=False,
        help_text="Fed one contact at a time (a journey's email step): stays sending when its queue is empty")
    turn_queued_at = models.DateTimeField(
        null=True, blank=True, editable=False,
        help_text="A send fed by journeys: when a worker's next turn on it was queued, until that turn starts")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", editable=False)
    started_at = models.DateTimeField(null=True, blank=True, editable=False)
    finished_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Email of {self.campaign}"

    @property
    def subject_line(self) -> str:
        return self.subject or self.template.subject

    @property
    def sender(self) -> str:
        if self.from_name and self.from_email:
            return f'"{self.from_name}" <{self.from_email}>'
        return self.from_email


class EmailCampaignEvent(models.Model):
    """Audit trail of the send: who moved it, when, from and to which status, why."""

    email_campaign = models.ForeignKey(EmailCampaign, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=12)
    to_status = models.CharField(max_length=12)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                           related_name="+")
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status}"


class ABTest(models.Model):
    email_campaign = models.OneToOneField(EmailCampaign, on_delete=models.CASCADE, related_name="ab_test")
    metric = models.CharField(max_length=12, choices=ABMetric.choices, default=ABMetric.OPEN_RATE)
    test_share = models.PositiveSmallIntegerField(
        default=20, validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="Percent of the audience that receives the variants; the rest gets the winner",
    )
    confidence_level = models.FloatField(default=0.95, validators=[MinValueValidator(0.5), MaxValueValidator(0.999)])
    wait_minutes = models.PositiveIntegerField(default=240, help_text="How long to collect opens or clicks")
    automatic = models.BooleanField(default=True, verbose_name="Pick the winner automatically",
                                    help_text="Off: a person picks the winner on the send's page")
    status = models.CharField(max_length=10, choices=ABStatus.choices, default=ABStatus.TESTING, editable=False)
    winner = models.ForeignKey("ABVariant", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                               editable=False)
    decided_at = models.DateTimeField(null=True, blank=True, editable=False)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", editable=False)
    decision_note = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "A/B test"

    def __str__(self) -> str:
        return f"A/B test of {self.email_campaign_id}"


class ABVariant(models.Model):
    ab_test = models.ForeignKey(ABTest, on_delete=models.CASCADE, related_name="variants")
    label = models.CharField(max_length=20, help_text='e.g. "A", "B"')
    subject = models.CharField(max_length=300, blank=True, help_text="Empty: the template's subject")
    template = models.ForeignKey(EmailTemplate, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                 help_text="Empty: the campaign's template (a subject-only test)")

    class Meta:
        ordering = ["ab_test", "label"]
        constraints = [models.UniqueConstraint(fields=["ab_test", "label"], name="email_variant_label_once")]

    def __str__(self) -> str:
        return self.label


class EmailLink(models.Model):
    """A link that appeared in a campaign's email: clicks redirect only to these."""

    campaign = models.ForeignKey("publishing.Campaign", on_delete=models.CASCADE, related_name="email_links")
    url = models.TextField()
    url_hash = models.CharField(max_length=64, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "url_hash"], name="email_link_once")]

    def __str__(self) -> str:
        return self.url


class DeliveryQuerySet(models.QuerySet):
    def update_in_id_order(self, **fields) -> int:
        """One UPDATE whose rows are locked in id order first. Two plain UPDATEs of overlapping rows (a
        pause of the whole send, a worker giving its claims back) lock rows in whatever order their plans
        read them and can deadlock; taken in one order, one waits for the other."""
        locked_in_order = self.order_by("pk").select_for_update().values("pk")
        with transaction.atomic(using=self.db):
            return self.model.objects.filter(pk__in=locked_in_order).update(**fields)


class EmailDelivery(models.Model):
    """One contact of one campaign's frozen audience: sent at most once per occurrence (unique in the
    database)."""

    # Every message updates its delivery twice and none of those updates can be HOT (status and message_id are
    # indexed), so each index costs two entries per message: the campaign's own index would repeat the
    # (campaign, contact, occurrence) unique one, and message_id needs no pattern-ops (_like) twin, only
    # equality look-ups.
    campaign = models.ForeignKey("publishing.Campaign", on_delete=models.CASCADE, related_name="email_deliveries",
                                 db_index=False)
    contact = models.ForeignKey("crm.Contact", on_delete=models.CASCADE, related_name="email_deliveries")
    # 0 for a send's one audience; a journey's email step puts the contact's enrolment here, so a contact who
    # re-enters the journey is sent the email again, once per entry.
    occurrence = models.PositiveBigIntegerField(default=0, db_default=0, editable=False)
    variant = models.ForeignKey(ABVariant, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="deliveries")
    # Test-share recipients go first; the rest waits (held) until the A/B test picks a winner.
    held = models.BooleanField(default=False, help_text="Waiting for the A/B test's winner")
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED,
                              editable=False)
    message_id = models.CharField(max_length=255, blank=True, editable=False)
    provider = models.CharField(max_length=120, blank=True, editable=False)
    provider_response = models.TextField(blank=True, editable=False)
    attempts = models.PositiveSmallIntegerField(default=0, editable=False)
    next_attempt_at = models.DateTimeField(null=True, blank=True, editable=False)
    lease_owner = models.CharField(max_length=64, blank=True, editable=False)
    lease_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    failover_note = models.TextField(blank=True, editable=False, help_text="Providers tried before the one that sent")
    sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    error = models.TextField(blank=True, editable=False)
    first_opened_at = models.DateTimeField(null=True, blank=True, editable=False)
    open_count = models.PositiveIntegerField(default=0, editable=False)
    first_clicked_at = models.DateTimeField(null=True, blank=True, editable=False)
    click_count = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "email deliveries"
        constraints = [
            models.UniqueConstraint(fields=["campaign", "contact", "occurrence"], name="email_delivery_once"),
            models.CheckConstraint(condition=~Q(status=DeliveryStatus.SENT) | ~Q(message_id=""),
                                   name="email_delivery_sent_has_message_id"),
        ]
        indexes = [models.Index(fields=["campaign", "status", "next_attempt_at"], name="email_delivery_claim"),
                   models.Index(fields=["message_id"], name="email_delivery_message_id")]

    def __str__(self) -> str:
        return f"Delivery {self.pk}: {self.contact_id} ({self.status})"


class TrackingHit(models.Model):
    """An open or click as its tracking endpoint answered it, waiting to be folded into its delivery's
    counts, the contact's engagement events and webhooks (services.tracking.fold_tracking_hits).

    One narrow INSERT per request, committed before the answer, and nothing read or updated: the
    endpoints keep up with a campaign's first hour of opens. No foreign keys, so an insert checks no
    other table; a hit whose delivery has gone by the time of the fold is dropped there."""

    id = models.BigAutoField(primary_key=True)
    kind = models.CharField(max_length=5, choices=TrackingHitKind.choices)
    delivery_id = models.BigIntegerField()
    link_id = models.BigIntegerField(null=True, blank=True)
    occurred_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind} of delivery {self.delivery_id}"


class InboundEvent(models.Model):
    """A provider event or inbox message, recorded once by its id so a replay changes nothing."""

    source = models.CharField(max_length=40, help_text='"webhook", "ses" (Amazon SES notifications through SNS) '
                                                        'or "inbox:<account id>"')
    event_id = models.CharField(max_length=255)
    kind = models.CharField(max_length=12, choices=InboundEventKind.choices)
    delivery = models.ForeignKey(EmailDelivery, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="inbound_events")
    contact = models.ForeignKey("crm.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    detail = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["source", "event_id"], name="email_inbound_event_once")]

    def __str__(self) -> str:
        return f"{self.kind} {self.event_id}"
