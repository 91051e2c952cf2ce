"""Content analysis results: one row per text analysed (the content itself, or one channel version),
cached by the hash of that text and the prompt version, so nothing is analysed twice."""

from django.conf import settings
from django.db import models


class AnalysisEngine(models.TextChoices):
    AI = "ai", "AI analysis"
    # Shown wherever a local result is: it must never pass for the AI's judgement.
    LOCAL = "local", "Local analysis (not AI)"


class AnalysisStatus(models.TextChoices):
    PENDING = "pending", "Waiting to run"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ContentAnalysis(models.Model):
    content = models.ForeignKey("publishing.Content", on_delete=models.CASCADE, related_name="analyses")
    kind = models.CharField("channel kind", max_length=32, blank=True,
                            help_text="The channel version analysed; blank for the content itself.")
    text = models.TextField(help_text="The text analysed, as its channel shows it.")
    text_hash = models.CharField(max_length=64, help_text="SHA-256 of the text analysed.")
    prompt_version = models.CharField(max_length=32, help_text="Which prompt or local rule set produced it.")
    engine = models.CharField(max_length=8, choices=AnalysisEngine.choices)
    status = models.CharField(max_length=10, choices=AnalysisStatus.choices, default=AnalysisStatus.PENDING,
                              db_index=True)
    quality_score = models.PositiveSmallIntegerField(null=True, blank=True, help_text="0-100; AI analysis only.")
    relevance_score = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="0-100 against the campaign's goal and audience; AI analysis only.")
    reasons = models.JSONField(default=list, blank=True)
    suggestions = models.JSONField(default=list, blank=True)
    measures = models.JSONField(default=dict, blank=True, help_text="Local analysis: readability, sentiment, "
                                                                     "length, sentence and keyword measures.")
    error = models.TextField(blank=True)
    note = models.CharField(max_length=300, blank=True,
                            help_text="Why the local analysis ran instead of the AI (its budget spent, every provider "
                                      "failing).")
    provider = models.CharField(max_length=120, blank=True)
    model = models.CharField(max_length=120, blank=True)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    cost_estimate = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["content_id", "kind", "-created_at"]
        verbose_name_plural = "content analyses"
        constraints = [
            models.UniqueConstraint(fields=["content", "kind", "text_hash", "prompt_version"],
                                    name="publishing_analysis_once_per_text"),
        ]

    def __str__(self) -> str:
        return f"{self.get_engine_display()} of {self.content_id} {self.kind or 'content'}"
