"""Alert rules' thresholds, the channels that hear about alerts, the alerts and each notice sent."""

from django.db import models


class AlertStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"


# A resolved alert stays resolved: the same finding later opens a new alert.
ALERT_TRANSITIONS = {AlertStatus.OPEN: {AlertStatus.RESOLVED}, AlertStatus.RESOLVED: set()}
ALERT_TERMINAL = frozenset({AlertStatus.RESOLVED})


class ChannelKind(models.TextChoices):
    EMAIL = "email", "Email (through the sending provider)"
    SLACK = "slack", "Slack incoming webhook"
    DISCORD = "discord", "Discord webhook"


class NoticeKind(models.TextChoices):
    OPENED = "opened", "Opened"
    REMINDER = "reminder", "Still open"
    RESOLVED = "resolved", "Resolved"


class AlertRule(models.Model):
    """An Admin's setting for one rule of alerts.rules; a rule without a row uses its defaults."""

    key = models.CharField(max_length=40, unique=True)
    enabled = models.BooleanField(default=True)
    threshold = models.FloatField(help_text="Opens the alert when the measure passes it (see the rule's unit).")

    class Meta:
        ordering = ("key",)
        verbose_name = "alert rule"

    def __str__(self) -> str:
        return self.key


class AlertChannel(models.Model):
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=10, choices=ChannelKind.choices)
    target = models.TextField(help_text="Email addresses (comma-separated) or the webhook URL.")
    repeat_minutes = models.PositiveIntegerField(
        default=240, help_text="Remind about an alert still open after this many minutes; 0 never reminds.")
    active = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("name", "pk")
        verbose_name = "alert channel"

    def __str__(self) -> str:
        return self.name


class Alert(models.Model):
    rule = models.CharField(max_length=40, db_index=True)
    subject = models.CharField(max_length=200, blank=True,
                               help_text="What the alert is about (an account, a capability).")
    status = models.CharField(max_length=10, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    title = models.CharField(max_length=300, help_text="What is wrong.")
    advice = models.TextField(help_text="What to do.")
    value = models.FloatField(null=True, blank=True)
    threshold = models.FloatField(null=True, blank=True)
    opened_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-opened_at", "-pk")
        constraints = [models.UniqueConstraint(fields=["rule", "subject"], condition=models.Q(status="open"),
                                               name="alerts_one_open_alert_per_rule_and_subject")]

    def __str__(self) -> str:
        return self.title


class AlertNotice(models.Model):
    """One notice of an alert to a channel. Opened and resolved notices are unique, so an alert is announced
    once however many checks run at the same time."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="notices")
    channel = models.ForeignKey(AlertChannel, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=10, choices=NoticeKind.choices)
    sent_at = models.DateTimeField(auto_now_add=True)
    ok = models.BooleanField(default=False)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ("-sent_at", "-pk")
        constraints = [models.UniqueConstraint(fields=["alert", "channel", "kind"],
                                               condition=~models.Q(kind="reminder"),
                                               name="alerts_notice_once_per_opening_and_resolution")]

    def __str__(self) -> str:
        return f"{self.kind} of {self.alert_id} to {self.channel_id}"
