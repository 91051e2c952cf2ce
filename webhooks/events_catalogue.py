"""Every business event a subscription may ask for, in the marketer's words."""

EVENTS = {
    "contact.created": "Contact created",
    "contact.updated": "Contact updated",
    "contact.unsubscribed": "Contact unsubscribed",
    "contact.suppressed": "Address suppressed",
    "import.finished": "Import finished",
    "segment.entered": "Contact entered a segment",
    "email.sent": "Email sent",
    "email.bounced": "Email bounced",
    "email.complained": "Email complaint",
    "email.opened": "Email opened",
    "email.clicked": "Email link clicked",
    "job.published": "Publishing job published",
    "job.failed": "Publishing job failed",
    "campaign.started": "Campaign started",
    "campaign.completed": "Campaign completed",
    "alert.opened": "Alert opened",
    "alert.resolved": "Alert resolved",
    # Sent only to the subscription a journey's webhook step names, never fanned out.
    "journey.webhook": "A journey's webhook step",
}
EVENT_CHOICES = tuple(EVENTS.items())
