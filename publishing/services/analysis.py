"""Content analysis: requested from the content page or the API, run by a django-q2 task.

Each text (the content itself and each channel version, as its channel shows it) is analysed once
per prompt version: the row is keyed by the text's hash, so asking again changes nothing until the
text does. With a real text-generation provider ready the AI scores it; otherwise the local analysis
runs, labelled as such. An AI answer that does not follow the schema is recorded as a failure with
its reason, never as a score.

When the AI cannot answer (its daily budget spent, every provider failing or its breaker open) the text
is analysed locally instead, with a note why, and stored under the local rules' version: the AI's cache
key stays free, so asking again once the budget is back gets the AI's scores."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta

import jsonschema
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from crm.models import Topic
from crm.selectors import audience_contacts
from gateways.capabilities import Capability, TextRequest
from gateways.errors import GatewayError
from gateways.readiness import capability_readiness
from gateways.services import generate_text
from publishing.analysis import ai, local
from publishing.formatters import formatter_for, markdown_to_text
from publishing.models import AnalysisEngine, AnalysisStatus, Campaign, Content, ContentAnalysis

logger = logging.getLogger(__name__)

# A run that has not finished in this time was lost with its worker: asking again starts it afresh.
RUN_LOST_AFTER = timedelta(minutes=15)
MAX_TOPICS = 8


@dataclass
class AnalysisTarget:
    kind: str  # "" for the content itself
    label: str
    text: str
    length: int
    max_length: int | None

    @property
    def text_hash(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


def analysis_targets(content: Content) -> list[AnalysisTarget]:
    article = "\n\n".join(part for part in (content.title, content.summary, markdown_to_text(content.body)) if part)
    targets = [AnalysisTarget("", "Content", article, len(article), None)]
    for version in content.versions.all():
        formatter = formatter_for(version.kind)
        text = formatter.render(version)
        targets.append(AnalysisTarget(version.kind, formatter.label, text, formatter.length(text),
                                      formatter.max_length))
    return targets


def _engine() -> tuple[str, str]:
    if capability_readiness(Capability.TEXT_GENERATION).ready:
        return AnalysisEngine.AI, ai.PROMPT_VERSION
    return AnalysisEngine.LOCAL, local.RULES_VERSION


@transaction.atomic
def content_analysis_request(*, content: Content, by=None) -> list[ContentAnalysis]:
    """One row per current text, queued where it has not been analysed yet (or failed, or was lost)."""
    engine, prompt_version = _engine()
    rows, queued = [], False
    for target in analysis_targets(content):
        row, created = ContentAnalysis.objects.select_for_update().get_or_create(
            content=content, kind=target.kind, text_hash=target.text_hash, prompt_version=prompt_version,
            defaults={"engine": engine, "text": target.text, "requested_by": by},
        )
        lost = row.status == AnalysisStatus.RUNNING and row.started_at and \
            row.started_at < timezone.now() - RUN_LOST_AFTER
        if row.status == AnalysisStatus.FAILED or lost:
            row.status, row.error, row.requested_by, row.started_at = AnalysisStatus.PENDING, "", by, None
            row.full_clean()
            row.save(update_fields=["status", "error", "requested_by", "started_at"])
        queued = queued or row.status == AnalysisStatus.PENDING
        rows.append(row)
    if queued:
        from django_q.tasks import async_task

        transaction.on_commit(lambda: async_task("publishing.tasks.content_analyse", content.pk, group="analysis"))
    return rows


def content_analysis_run(*, content_id: int) -> int:
    """Run the content's waiting analyses; returns how many finished. Each is claimed first, so two
    workers never analyse the same text, and no transaction is held across a provider call."""
    with transaction.atomic():
        claimed = list(ContentAnalysis.objects.select_for_update(skip_locked=True)
                       .filter(content_id=content_id, status=AnalysisStatus.PENDING))
        ContentAnalysis.objects.filter(pk__in=[row.pk for row in claimed]).update(
            status=AnalysisStatus.RUNNING, started_at=timezone.now())
    if not claimed:
        return 0
    content = Content.objects.get(pk=content_id)
    goals, topics = campaign_context(content)
    keywords = list(dict.fromkeys([*content.tags, *topics]))
    for row in claimed:
        try:
            _run(row, goals=goals, topics=topics, keywords=keywords)
        except Exception:
            # One text's fault must not leave it "running" for good, nor stop the others.
            logger.exception("Analysis %s of content %s failed", row.pk, content_id)
            ContentAnalysis.objects.filter(pk=row.pk, status=AnalysisStatus.RUNNING).update(
                status=AnalysisStatus.FAILED, error="The analysis failed unexpectedly; analyse again.",
                finished_at=timezone.now())
    return len(claimed)


def campaign_context(content: Content) -> tuple[list[str], list[str]]:
    """The goals of the campaigns that carry the content (their name and description) and the topics
    of interest most common in their audiences."""
    campaigns = list(Campaign.objects.filter(campaign_contents__content=content).distinct())
    goals = [f"{c.name}: {c.description}" if c.description else c.name for c in campaigns]
    topics: list[str] = []
    for campaign in campaigns:
        if not campaign.audience:
            continue
        members = audience_contacts(campaign.audience).order_by().values("pk")
        names = (Topic.objects.filter(contacts__in=members).annotate(people=Count("contacts"))
                 .order_by("-people", "name").values_list("name", flat=True)[:MAX_TOPICS])
        topics.extend(name for name in names if name not in topics)
    return goals, topics[:MAX_TOPICS]


def _run(row: ContentAnalysis, *, goals: list[str], topics: list[str], keywords: list[str]) -> None:
    max_length = formatter_for(row.kind).max_length if row.kind else None
    length = formatter_for(row.kind).length(row.text) if row.kind else len(row.text)
    if row.engine == AnalysisEngine.AI:
        try:
            fields = _ai_fields(row, max_length=max_length, goals=goals, topics=topics, keywords=keywords)
        except AIUnavailable as exc:
            _fall_back_to_local(row, note=exc.note, length=length, max_length=max_length, keywords=keywords)
            return
    else:
        fields = _local_fields(row.text, length=length, max_length=max_length, keywords=keywords)
    ContentAnalysis.objects.filter(pk=row.pk, status=AnalysisStatus.RUNNING).update(
        **fields, finished_at=timezone.now())


class AIUnavailable(Exception):
    def __init__(self, note: str):
        super().__init__(note)
        self.note = note


def _local_fields(text: str, *, length: int, max_length: int | None, keywords: list[str]) -> dict:
    found = local.analyse_locally(text, length=length, max_length=max_length, keywords=keywords)
    return {"status": AnalysisStatus.DONE, "measures": found.measures, "reasons": found.reasons,
            "suggestions": found.suggestions}


@transaction.atomic
def _fall_back_to_local(row: ContentAnalysis, *, note: str, length: int, max_length: int | None,
                        keywords: list[str]) -> None:
    """The claimed AI row becomes the local analysis of its text (replacing an older local one), so
    nothing local is ever stored under the AI's engine or prompt version."""
    fields = _local_fields(row.text, length=length, max_length=max_length, keywords=keywords)
    ContentAnalysis.objects.filter(content_id=row.content_id, kind=row.kind, text_hash=row.text_hash,
                                   prompt_version=local.RULES_VERSION).exclude(pk=row.pk).delete()
    ContentAnalysis.objects.filter(pk=row.pk, status=AnalysisStatus.RUNNING).update(
        **fields, engine=AnalysisEngine.LOCAL, prompt_version=local.RULES_VERSION, note=note, provider="",
        model="", finished_at=timezone.now())


def _ai_fields(row: ContentAnalysis, *, max_length, goals, topics, keywords) -> dict:
    request = TextRequest(
        system=ai.SYSTEM, schema=ai.REQUESTED_SCHEMA, schema_name="content_scores", max_tokens=1200,
        prompt=ai.analysis_prompt(text=row.text, channel=row.kind, max_length=max_length, goals=goals,
                                  topics=topics, keywords=keywords),
    )
    try:
        result = generate_text(request=request)
    except GatewayError as exc:
        raise AIUnavailable(f"No AI provider could answer ({exc.message}).") from exc
    if result.skipped:
        budget = "budget" in result.reason
        raise AIUnavailable("AI budget for today spent." if budget else f"The AI was not asked: {result.reason}.")
    answer = result.value
    try:
        jsonschema.validate(answer.data, ai.ANSWER_SCHEMA)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(part) for part in exc.absolute_path) or "the answer"
        return {"status": AnalysisStatus.FAILED, "provider": result.provider, "model": answer.model,
                "error": f"The AI answer did not follow the schema ({where}: {exc.message[:200]}); no score is shown."}
    return {"status": AnalysisStatus.DONE, "quality_score": answer.data["quality_score"],
            "relevance_score": answer.data["relevance_score"], "reasons": answer.data["reasons"],
            "suggestions": answer.data["suggestions"], "provider": result.provider, "model": answer.model,
            "input_tokens": answer.input_tokens, "output_tokens": answer.output_tokens,
            "cost_estimate": answer.cost_estimate}


def content_analyses_current(content: Content) -> list[tuple[AnalysisTarget, ContentAnalysis | None]]:
    """Each current text with its newest analysis (None when its text was never analysed)."""
    targets = analysis_targets(content)
    newest: dict[tuple[str, str], ContentAnalysis] = {}
    for row in ContentAnalysis.objects.filter(content=content, text_hash__in=[t.text_hash for t in targets]) \
            .order_by("-created_at", "-id"):
        newest.setdefault((row.kind, row.text_hash), row)
    return [(target, newest.get((target.kind, target.text_hash))) for target in targets]
