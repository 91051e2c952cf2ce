"""Statuses and kinds of publishing, each with its allowed transitions in one table beside it."""

from django.db import models


class ContentKind(models.TextChoices):
    BLOG_POST = "blog_post", "Blog post"
    SOCIAL_POST = "social_post", "Social post"
    EMAIL = "email", "Email"
    LANDING_PAGE = "landing_page", "Landing page"
    WHITEPAPER = "whitepaper", "Whitepaper"
    CASE_STUDY = "case_study", "Case study"
    WEBINAR = "webinar", "Webinar"
    PRODUCT_UPDATE = "product_update", "Product update"


class ContentStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    APPROVED = "approved", "Approved"
    SCHEDULED = "scheduled", "Scheduled"
    PUBLISHED = "published", "Published"
    ARCHIVED = "archived", "Archived"


CONTENT_TRANSITIONS: dict[str, set[str]] = {
    ContentStatus.DRAFT: {ContentStatus.IN_REVIEW, ContentStatus.ARCHIVED},
    ContentStatus.IN_REVIEW: {ContentStatus.APPROVED, ContentStatus.CHANGES_REQUESTED, ContentStatus.DRAFT},
    ContentStatus.CHANGES_REQUESTED: {ContentStatus.IN_REVIEW, ContentStatus.DRAFT, ContentStatus.ARCHIVED},
    # Editing approved or scheduled content sends it back to review.
    ContentStatus.APPROVED: {ContentStatus.SCHEDULED, ContentStatus.PUBLISHED, ContentStatus.IN_REVIEW,
                             ContentStatus.ARCHIVED},
    ContentStatus.SCHEDULED: {ContentStatus.PUBLISHED, ContentStatus.APPROVED, ContentStatus.IN_REVIEW,
                              ContentStatus.ARCHIVED},
    ContentStatus.PUBLISHED: {ContentStatus.ARCHIVED},
    ContentStatus.ARCHIVED: {ContentStatus.DRAFT},
}
# Content a campaign may carry: a person with the right has approved it.
PUBLISHABLE_CONTENT = {ContentStatus.APPROVED, ContentStatus.SCHEDULED, ContentStatus.PUBLISHED}
EDITABLE_WITHOUT_REVIEW = {ContentStatus.DRAFT, ContentStatus.CHANGES_REQUESTED, ContentStatus.IN_REVIEW}


class ReviewStatus(models.TextChoices):
    OPEN = "open", "Open"
    APPROVED = "approved", "Approved"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    WITHDRAWN = "withdrawn", "Withdrawn"


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SCHEDULED = "scheduled", "Scheduled"
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    COMPLETED = "completed", "Completed"
    CANCELED = "canceled", "Canceled"


CAMPAIGN_TRANSITIONS: dict[str, set[str]] = {
    CampaignStatus.DRAFT: {CampaignStatus.SCHEDULED, CampaignStatus.RUNNING, CampaignStatus.CANCELED},
    CampaignStatus.SCHEDULED: {CampaignStatus.RUNNING, CampaignStatus.PAUSED, CampaignStatus.CANCELED,
                               CampaignStatus.COMPLETED},
    CampaignStatus.RUNNING: {CampaignStatus.PAUSED, CampaignStatus.COMPLETED, CampaignStatus.CANCELED},
    CampaignStatus.PAUSED: {CampaignStatus.SCHEDULED, CampaignStatus.RUNNING, CampaignStatus.CANCELED},
    CampaignStatus.COMPLETED: set(),
    CampaignStatus.CANCELED: set(),
}
TERMINAL_CAMPAIGN = {CampaignStatus.COMPLETED, CampaignStatus.CANCELED}


class JobStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    QUEUED = "queued", "Queued"
    PUBLISHING = "publishing", "Publishing"
    PUBLISHED = "published", "Published"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Canceled"
    AWAITING_MANUAL = "awaiting_manual", "Awaiting manual publish"
    NEEDS_CHECKING = "needs_checking", "Needs checking"
    PAUSED = "paused", "Paused"
    WAITING_FOR_WEATHER = "waiting_weather", "Waiting for the weather"


JOB_TRANSITIONS: dict[str, set[str]] = {
    JobStatus.SCHEDULED: {JobStatus.QUEUED, JobStatus.PUBLISHING, JobStatus.CANCELED, JobStatus.PAUSED,
                          JobStatus.WAITING_FOR_WEATHER},
    JobStatus.QUEUED: {JobStatus.PUBLISHING, JobStatus.SCHEDULED, JobStatus.CANCELED, JobStatus.PAUSED,
                       JobStatus.WAITING_FOR_WEATHER},
    # Released to the queue when the weather condition holds; failed (with the reason) at the deadline;
    # paused with its campaign (and back to waiting, not to the queue, on resume).
    JobStatus.WAITING_FOR_WEATHER: {JobStatus.SCHEDULED, JobStatus.FAILED, JobStatus.CANCELED, JobStatus.PAUSED},
    JobStatus.PUBLISHING: {JobStatus.PUBLISHED, JobStatus.FAILED, JobStatus.SCHEDULED, JobStatus.AWAITING_MANUAL,
                           JobStatus.NEEDS_CHECKING},
    JobStatus.PAUSED: {JobStatus.SCHEDULED, JobStatus.CANCELED, JobStatus.WAITING_FOR_WEATHER},
    # A retried post that was held for the weather waits for it again.
    JobStatus.FAILED: {JobStatus.SCHEDULED, JobStatus.CANCELED, JobStatus.WAITING_FOR_WEATHER},
    JobStatus.AWAITING_MANUAL: {JobStatus.PUBLISHED, JobStatus.CANCELED},
    # A person looked at the channel: it is there (published) or it is not (try again).
    JobStatus.NEEDS_CHECKING: {JobStatus.PUBLISHED, JobStatus.SCHEDULED, JobStatus.CANCELED,
                               JobStatus.WAITING_FOR_WEATHER},
    # A post that went out late after its lease had expired is still recorded as published.
    JobStatus.PUBLISHED: set(),
    JobStatus.CANCELED: set(),
}
TERMINAL_JOB = {JobStatus.PUBLISHED, JobStatus.CANCELED}
# Jobs the dispatcher may pick up when their due time has come.
DUE_JOB = (JobStatus.SCHEDULED, JobStatus.QUEUED)
# Jobs a person may move to another day: no dispatcher holds them yet.
RESCHEDULABLE_JOB = (JobStatus.SCHEDULED, JobStatus.QUEUED, JobStatus.PAUSED)
OPEN_JOB = (JobStatus.SCHEDULED, JobStatus.QUEUED, JobStatus.PUBLISHING, JobStatus.PAUSED,
            JobStatus.WAITING_FOR_WEATHER)
# Jobs a weather hold may be put on: no dispatcher holds them yet (a failed one, or one a person found not
# posted, waits again with a new deadline after its hold gave up).
HOLDABLE_JOB = (*RESCHEDULABLE_JOB, JobStatus.FAILED, JobStatus.NEEDS_CHECKING)


class WeatherCondition(models.TextChoices):
    RAIN_TODAY = "rain_today", "Rain today"
    NO_RAIN_TODAY = "no_rain_today", "No rain today"
    TEMPERATURE_ABOVE = "temperature_above", "Temperature above (°C)"
    TEMPERATURE_BELOW = "temperature_below", "Temperature below (°C)"


class MetricSource(models.TextChoices):
    CHANNEL = "channel", "Pulled from the channel"
    MANUAL = "manual", "Entered by hand"
    IMPORT = "import", "Imported from CSV"


class CheckKind(models.TextChoices):
    """The automated checks before approval (publishing/checks.py); an Admin picks which block approval."""

    SPAM_WORDS = "spam_words", "Spam-trigger words"
    SHOUTING = "shouting", "Capitals and exclamation marks"
    ALT_TEXT = "alt_text", "Alt text on images"
    CHANNEL_FIT = "channel_fit", "Channel fit"
    UNSUBSCRIBE = "unsubscribe", "Unsubscribe link"
    POSTAL_ADDRESS = "postal_address", "Postal address"
    LINKS = "links", "Links"
    UTM = "utm", "UTM parameters"
    READABILITY = "readability", "Readability for the audience"
    IMAGE_SIZE = "image_size", "Image sizes for the channel"


# The statuses of a campaign's email send (publishing.email.choices.SendStatus) that keep the campaign
# running after its posts are out: its people are still being sent to, or a pause will resume it.
# Named here because the campaign workflow may not import the email package, which builds on it.
SEND_STATUSES_UNDER_WAY = ("sending", "paused")
