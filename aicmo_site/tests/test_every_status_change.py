"""Every status change goes through aicmo_site.transitions: each model with a status field has a
workflow (or a reason below why its moves are the exactly-once machinery's own), each declared move is
made by the mechanism and leaves an audit row, and no code sets a status by assignment elsewhere."""

import re
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.files.base import ContentFile
from django.urls import get_resolver
from django.utils.timezone import now

from aicmo_site.models import BackgroundRun, RunKind
from aicmo_site.transitions import workflow_for, workflows
from alerts.models import Alert
from automation.models import Journey
from automation.tests.factories import journey
from crm.models import EnrichmentRun, ImportRun
from crm.tests.factories import ContactFactory
from media.tests.factories import AssetFactory
from publishing.email.models import ABTest
from publishing.tests.email.factories import EmailCampaignFactory
from publishing.tests.factories import CampaignFactory, ContentFactory, JobFactory, UserFactory

STATUS_FIELDS = ("status", "lifecycle_status", "state")

# Models whose status moves outside the mechanism, and why. Keep it short.
EXEMPT = {
    # The sender's marks (claimed, sent, failed, outcome unknown) are the exactly-once machinery: set-based
    # conditional UPDATEs whose outcome record is the delivery row itself (message id, error, times).
    "publishing.EmailDelivery": "the email sender's marks",
    # The webhook outbox's delivery attempts, recorded per attempt by the outbox sender.
    "webhooks.WebhookMessage": "the webhook outbox sender's marks",
    # A run's items are settled set-based by the enrichment worker; the run holds the counts.
    "crm.EnrichmentRunItem": "the enrichment worker's item marks",
    # Open/decided review of content: closed in the same transaction as the content's own move, which is
    # the audited one (ContentEvent).
    "publishing.Review": "recorded by the content workflow's move",
    # A cached analysis of a text, not a workflow a person acts on: its worker settles it with conditional
    # UPDATEs (pending -> running -> done/failed), as the sender marks its deliveries.
    "publishing.ContentAnalysis": "the analysis worker's marks",
    # Likewise the stored result of a content's link check: pending when asked, done when the worker wrote it.
    "publishing.LinkReport": "the link checker's marks",
    # A contact's place in a journey moves with each step, set-based for a whole claimed batch in the
    # same transaction as the step's effect; the step log row (unique per visit) is its record.
    "automation.JourneyEnrolment": "the journey runner's set-based moves, recorded by the step log",
    # A notify step's digest: claimed, then sent, failed or outcome unknown by its sender's conditional
    # UPDATEs, like the email sender's deliveries.
    "automation.JourneyNotification": "the journey notification sender's marks",
}

# Files allowed to set a status outside the mechanism (by assignment or in an UPDATE), with the reason.
ASSIGNING = {
    "gateways/errors.py": 1,  # an HTTP status carried by an error, not a model's
    # _move_claimed: the dispatcher's conditional UPDATE on its claim replaces the lock (the workflow still
    # checks and records the move), then sets its own copy; the dispatcher's claim is its set-based UPDATE.
    "publishing/services/jobs.py": 2,
    "publishing/dispatcher.py": 1,
    "publishing/services/content.py": 1,  # Review, see EXEMPT
    "publishing/services/analysis.py": 3,  # ContentAnalysis, see EXEMPT
    # JourneyEnrolment, see EXEMPT: exits (archive, removal, exit triggers, goals) and the runner's moves.
    "automation/services/journeys.py": 2,
    "automation/services/runner.py": 1,
    "automation/services/triggers.py": 3,
    "automation/services/notifications.py": 4,  # JourneyNotification, see EXEMPT
    "automation/services/test_mode.py": 1,  # a restarted test run leaves the earlier one
    "publishing/email/sender/batch.py": 1,  # EmailDelivery, see EXEMPT
    "publishing/email/services/campaigns.py": 2,  # EmailDelivery (a cancel drops the queued; lease recovery)
    "webhooks/services.py": 3,  # WebhookMessage, see EXEMPT
    # EnrichmentRunItem, see EXEMPT: a cancel skips the queued, an outage releases or fails a batch, a
    # refusal fails it, a worked batch takes each item's outcome (bulk_update).
    "crm/services/enrichment.py": 4,
}
ASSIGNMENT = re.compile(
    r"^\s*(?:[\w.]+\s*,\s*)*[\w.]+\.(?:status|lifecycle_status)\s*(?:,\s*[\w.]+\s*)*=(?!=)"
    r"|\.update\(\s*(?:status|lifecycle_status)\s*=",
    re.MULTILINE,
)
APPS = ("aicmo_site", "gateways", "webhooks", "crm", "media", "publishing", "automation", "analytics", "alerts")


def _import_every_workflow():
    # The URLconf imports every app's views, hence its services, where the workflows are declared.
    assert get_resolver().url_patterns


def _status_fields(model):
    return [f.name for f in model._meta.concrete_fields if f.name in STATUS_FIELDS and f.choices]


def test_every_model_with_a_status_has_a_workflow_or_a_reason():
    _import_every_workflow()
    missing = [
        model._meta.label
        for model in apps.get_models()
        if _status_fields(model) and workflow_for(model) is None and model._meta.label not in EXEMPT
    ]
    assert missing == []
    assert not [label for label in EXEMPT if workflow_for(apps.get_model(label)) is not None], "exempt yet ported"


def _make(model):
    if model is ImportRun:
        return ImportRun.objects.create(file=ContentFile(b"email\n", name="x.csv"))
    if model is Alert:
        return Alert.objects.create(rule="r", subject="s", title="t", value=1, threshold=0, last_seen_at=now())
    if model is Journey:
        return journey(active=False)
    if model is EnrichmentRun:
        return EnrichmentRun.objects.create()
    if model is BackgroundRun:
        return BackgroundRun.objects.create(kind=RunKind.RENDITIONS)
    if model is ABTest:
        return ABTest.objects.create(email_campaign=EmailCampaignFactory())
    builders = {
        "crm.Contact": ContactFactory,
        "media.Asset": AssetFactory,
        "publishing.Content": ContentFactory,
        "publishing.Campaign": CampaignFactory,
        "publishing.PublishingJob": JobFactory,
        "publishing.EmailCampaign": EmailCampaignFactory,
    }
    return builders[model._meta.label]()


def _moves():
    _import_every_workflow()
    return [
        pytest.param(workflow, source, target, id=f"{workflow.model._meta.label}:{source}->{target}")
        for workflow in workflows()
        for source, targets in sorted(workflow.transitions.items())
        for target in sorted(targets)
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("workflow, source, target", _moves())
def test_each_declared_move_goes_through_the_mechanism_and_is_audited(workflow, source, target):
    obj = _make(workflow.model)
    workflow.model.objects.filter(pk=obj.pk).update(**{workflow.field: source})
    person = UserFactory()
    before = workflow.audit_model.objects.count()
    moved = workflow.transition(obj, target, by=person, note="walked", action="walk")
    assert getattr(moved, workflow.field) == target
    assert getattr(workflow.model.objects.get(pk=obj.pk), workflow.field) == target
    assert workflow.audit_model.objects.count() == before + 1


def test_no_status_is_set_by_assignment_outside_the_mechanism():
    root = Path(settings.BASE_DIR)
    found = {}
    for app in APPS:
        for path in (root / app).rglob("*.py"):
            relative = path.relative_to(root).as_posix()
            if "/tests/" in relative or "/migrations/" in relative:
                continue
            count = len(ASSIGNMENT.findall(path.read_text()))
            if count:
                found[relative] = count
    assert found == ASSIGNING
