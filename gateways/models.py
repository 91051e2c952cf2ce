"""Provider accounts, their shared health, and inbox cursors.

Health lives in the database (one row per account, updated with F() expressions and conditional
UPDATEs) so that every web and worker process sees the same breaker and the same rate limit.
"""

from django.core.exceptions import ValidationError
from django.db import models

from gateways import conf, crypto
from gateways.capabilities import Adapter, Capability, ProviderKind, adapter_class


class BreakerState(models.TextChoices):
    CLOSED = "closed", "Closed (calls go through)"
    OPEN = "open", "Open (calls skipped until the cool-down ends)"
    HALF_OPEN = "half_open", "Half-open (one trial call)"


class OpenReason(models.TextChoices):
    """Why a breaker opened: it decides how the account comes back."""

    FAILURES = "failures", "Repeated failures (one trial call after the cool-down)"
    RATE_LIMIT = "rate_limit", "The provider's rate limit (calls resume at its retry time)"


class HealthStatus(models.TextChoices):
    HEALTHY = "healthy", "Healthy"
    DEGRADED = "degraded", "Degraded"
    DOWN = "down", "Down"
    UNKNOWN = "unknown", "Not called yet"
    # Never healthy: they call no one, or may not be called just to see whether they answer.
    NOT_CONFIGURED = "not_configured", "Not configured (a placeholder that does nothing)"
    MANUAL = "manual", "Manual (a person publishes)"
    NOT_PROBED = "not_probed", "Not probed (cannot be checked without doing real work)"


class ProviderAccount(models.Model):
    capability = models.CharField(max_length=40, choices=Capability.CHOICES, db_index=True)
    adapter = models.CharField(max_length=60, help_text="Which provider integration this account uses.")
    name = models.CharField(max_length=120, unique=True, help_text="Shown in health reports and logs.")
    priority = models.PositiveIntegerField(default=100, help_text="Lower numbers are tried first.")
    enabled = models.BooleanField(default=True)
    base_url = models.URLField(blank=True, help_text="Leave blank to use the provider's own address.")
    timeout_seconds = models.FloatField(default=10.0, help_text="Connect and read timeout of each call.")
    rate_limit_count = models.PositiveIntegerField(
        null=True, blank=True, help_text="Requests allowed per period; blank uses the provider's documented limit."
    )
    rate_limit_seconds = models.FloatField(null=True, blank=True, help_text="Length of the rate-limit period.")
    settings = models.JSONField(default=dict, blank=True, help_text="Plain (non-secret) parameters.")
    credentials_encrypted = models.TextField(blank=True, editable=False)
    credential_names = models.JSONField(default=list, blank=True, editable=False)
    channel = models.CharField(max_length=40, blank=True, editable=False, db_index=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("capability", "priority", "name")
        verbose_name = "provider account"
        constraints = [
            models.CheckConstraint(condition=models.Q(timeout_seconds__gt=0), name="gateways_account_timeout_positive"),
        ]

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        # Never the credentials: a repr ends up in logs and tracebacks.
        return f"<ProviderAccount {self.pk} {self.name!r} {self.adapter}>"

    @property
    def adapter_class(self) -> type[Adapter]:
        return adapter_class(self.adapter)

    @property
    def is_fallback(self) -> bool:
        """A no-op or manual account: it answers, but calls no one."""
        try:
            return self.adapter_class.is_fallback
        except LookupError:
            return False

    @property
    def kind(self) -> str:
        """real, placeholder or manual (ProviderKind); an adapter that is not installed counts as real:
        it fails when called, and health says so."""
        try:
            return self.adapter_class.kind
        except LookupError:
            return ProviderKind.REAL

    @property
    def probeable(self) -> bool:
        try:
            return self.adapter_class.probeable
        except LookupError:
            return True

    @property
    def rate_limit(self) -> tuple[int, float] | None:
        if self.rate_limit_count and self.rate_limit_seconds:
            return self.rate_limit_count, self.rate_limit_seconds
        try:
            return self.adapter_class.default_rate_limit
        except LookupError:
            return None

    def clean(self):
        try:
            cls = self.adapter_class
        except LookupError as exc:
            raise ValidationError({"adapter": str(exc)})
        if cls.capability != self.capability:
            raise ValidationError({"adapter": f"{cls.label} provides {cls.capability}, not {self.capability}."})
        if bool(self.rate_limit_count) != bool(self.rate_limit_seconds):
            raise ValidationError({"rate_limit_seconds": "Set both the request count and the period, or neither."})
        if self.rate_limit_seconds is not None and self.rate_limit_seconds <= 0:
            raise ValidationError({"rate_limit_seconds": "The period must be longer than zero seconds."})
        unknown = set(self.settings or {}) - set(cls.parameters)
        if unknown:
            raise ValidationError({"settings": f"Unknown parameters for {cls.label}: {', '.join(sorted(unknown))}."})

    def build_adapter(self) -> Adapter:
        """The adapter for this account, with its credentials decrypted in memory only."""
        return self.adapter_class(
            name=self.name,
            base_url=self.base_url,
            timeout=self.timeout_seconds,
            settings=dict(self.settings or {}),
            credentials=crypto.decrypt_json(self.credentials_encrypted),
        )


class ProviderHealth(models.Model):
    """Outcome statistics, circuit breaker and token bucket of one account."""

    account = models.OneToOneField(ProviderAccount, on_delete=models.CASCADE, primary_key=True, related_name="health")
    calls = models.PositiveIntegerField(default=0)
    failures = models.PositiveIntegerField(default=0)
    success_rate = models.FloatField(null=True, blank=True, help_text="Moving average of successful calls (0-1).")
    latency_ms = models.FloatField(null=True, blank=True, help_text="Moving average of call latency.")
    consecutive_failures = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    last_advice = models.TextField(blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    breaker_state = models.CharField(max_length=10, choices=BreakerState.choices, default=BreakerState.CLOSED)
    opened_at = models.DateTimeField(null=True, blank=True)
    open_until = models.DateTimeField(null=True, blank=True, help_text="No calls before this time.")
    open_reason = models.CharField(
        max_length=10, choices=OpenReason.choices, blank=True,
        help_text="Why the breaker is open; blank while it is closed.",
    )
    trial_started_at = models.DateTimeField(null=True, blank=True)
    bucket_tokens = models.FloatField(null=True, blank=True)
    bucket_version = models.PositiveBigIntegerField(default=0)
    bucket_checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "provider health"
        verbose_name_plural = "provider health"

    def __str__(self) -> str:
        return f"health of {self.account_id}"

    @property
    def status(self) -> str:
        """What the recorded calls say: down while the breaker is not closed or the failures reach its
        threshold, unknown before any call, degraded on a failure or a low success rate."""
        if self.breaker_state != BreakerState.CLOSED or self.consecutive_failures >= conf.breaker_threshold():
            return HealthStatus.DOWN
        if not self.calls:
            return HealthStatus.UNKNOWN
        if self.consecutive_failures or (self.success_rate or 0) < conf.degraded_success_rate():
            return HealthStatus.DEGRADED
        return HealthStatus.HEALTHY


class InboxCursor(models.Model):
    """The highest message UID of a mailbox that AICMO has finished processing."""

    account = models.OneToOneField(ProviderAccount, on_delete=models.CASCADE, primary_key=True, related_name="cursor")
    last_uid = models.PositiveBigIntegerField(default=0)
    uid_validity = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="The mailbox's UIDVALIDITY that last_uid belongs to."
    )
    updated = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.account_id} at UID {self.last_uid}"


class TextGenerationUsage(models.Model):
    """Requests, tokens and estimated cost of one text-generation account on one day (UTC): the
    account's daily request budget is counted here, before each request is sent."""

    account = models.ForeignKey(ProviderAccount, on_delete=models.CASCADE, related_name="text_usage")
    day = models.DateField()
    requests = models.PositiveIntegerField(default=0, help_text="Requests sent (answered or not).")
    input_tokens = models.PositiveBigIntegerField(default=0)
    output_tokens = models.PositiveBigIntegerField(default=0)
    cost_estimate = models.DecimalField(
        max_digits=14, decimal_places=6, default=0,
        help_text="From the account's prices per million tokens; zero when it sets none.",
    )

    class Meta:
        verbose_name = "text generation usage"
        verbose_name_plural = "text generation usage"
        ordering = ("-day", "account")
        constraints = [models.UniqueConstraint(fields=("account", "day"), name="gateways_text_usage_account_day")]

    def __str__(self) -> str:
        return f"{self.account_id} on {self.day}: {self.requests} requests"


class VapidKeys(models.Model):
    """This installation's VAPID key pair (RFC 8292), made once (gateways.webpush.vapid_keys). Browsers bind
    each push subscription to the public key, so a new pair would silently orphan every subscription."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    public_key = models.CharField(max_length=100, editable=False,
                                  help_text="The applicationServerKey browsers subscribe with (base64url)")
    private_key = models.TextField(editable=False, help_text="Encrypted like provider credentials")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "VAPID keys"
        verbose_name_plural = "VAPID keys"
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="gateways_vapid_keys_one")]

    def __str__(self) -> str:
        return f"VAPID key {self.public_key[:12]}…"
