"""GitHub repositories an Admin watches: their daily figures and their releases (developer marketing signals)."""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

from gateways.capabilities import Capability

# owner/name as GitHub allows them: it goes into request paths, so nothing else may pass.
FULL_NAME = RegexValidator(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$",
                           "Write the repository as owner/name, e.g. octocat/Hello-World.")


class WatchedRepository(models.Model):
    full_name = models.CharField("repository", max_length=140, unique=True, validators=[FULL_NAME],
                                 help_text="owner/name on GitHub")
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    account = models.ForeignKey("gateways.ProviderAccount", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+", verbose_name="token account",
                                limit_choices_to={"capability": Capability.REPOSITORY_SIGNALS},
                                help_text="The GitHub account whose token reads it (a private repository needs one "
                                          "that may see it); empty: the first enabled GitHub account")
    created_at = models.DateTimeField(auto_now_add=True)
    # The ETags GitHub answered the last reads with: sent back, a 304 costs no quota.
    figures_etag = models.CharField(max_length=200, blank=True)
    releases_etag = models.CharField(max_length=200, blank=True)
    polled_at = models.DateTimeField(null=True, blank=True, verbose_name="last read")
    not_before = models.DateTimeField(null=True, blank=True, verbose_name="waiting until",
                                      help_text="GitHub's rate limit asked to wait until then")
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["full_name"]
        verbose_name = "watched GitHub repository"
        verbose_name_plural = "watched GitHub repositories"

    def __str__(self) -> str:
        return self.full_name


class RepositorySnapshot(models.Model):
    """A repository's figures on one day; the day's last read wins. Traffic is null when unknown and
    `traffic_available` is False when the token may not read it (GitHub wants push access)."""

    repository = models.ForeignKey(WatchedRepository, on_delete=models.CASCADE, related_name="snapshots")
    day = models.DateField()
    stars = models.PositiveIntegerField()
    forks = models.PositiveIntegerField()
    watchers = models.PositiveIntegerField()
    open_issues = models.PositiveIntegerField()
    releases = models.PositiveIntegerField()
    views = models.PositiveIntegerField(null=True, blank=True, help_text="Views over GitHub's last 14 days")
    clones = models.PositiveIntegerField(null=True, blank=True, help_text="Clones over GitHub's last 14 days")
    traffic_available = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["repository_id", "day"]
        constraints = [models.UniqueConstraint(fields=["repository", "day"], name="repository_snapshot_one_a_day")]

    def __str__(self) -> str:
        return f"{self.repository} {self.day}"


class ReleaseSource(models.TextChoices):
    WEBHOOK = "webhook", "GitHub webhook"
    POLL = "poll", "Scheduled read"


class RepositoryRelease(models.Model):
    """A published release, whichever way it was learnt first; marked on the analytics trend charts."""

    repository_name = models.CharField("repository", max_length=140, db_index=True)
    tag = models.CharField(max_length=200)
    name = models.CharField(max_length=300, blank=True)
    url = models.URLField(max_length=500, blank=True)
    published_at = models.DateTimeField(db_index=True)
    source = models.CharField(max_length=10, choices=ReleaseSource.choices)

    class Meta:
        ordering = ["-published_at"]
        constraints = [models.UniqueConstraint(fields=["repository_name", "tag"], name="repository_release_once")]

    def __str__(self) -> str:
        return f"{self.repository_name} {self.tag}"


class GitHubUser(models.Model):
    """A GitHub login whose public email was looked up, once: GitHub's `email` is what the user chose to
    show, and asking again for every repository would spend the hourly quota on answers already known."""

    login = models.CharField(max_length=39, unique=True)
    email = models.EmailField(blank=True, help_text="The public email GitHub showed; empty when hidden")
    looked_up_at = models.DateTimeField(auto_now_add=True)
    contact = models.ForeignKey("crm.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["login"]
        verbose_name = "GitHub user"

    def __str__(self) -> str:
        return self.login
