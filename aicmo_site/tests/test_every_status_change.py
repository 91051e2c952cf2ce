"""Every status change goes through aicmo_site.transitions: each model with a status field has a
workflow (or a reason below why its moves are the exactly-once machinery's own), each declared move is
made by the mechanism and leaves an audit row, and no code sets a status by assignment elsewhere."""

import ast
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
from automation.models import Journey, JourneyEnrolment
from automation.tests.factories import journey
from crm.models import EnrichmentRun, ImportRun
from crm.tests.factories import ContactFactory
from media.tests.factories import AssetFactory
from publishing.email.models import ABTest
from publishing.push.models import PushDelivery, PushSend
from publishing.sms.models import SmsDelivery, SmsSend
from publishing.tests.email.factories import EmailCampaignFactory
from publishing.tests.factories import CampaignFactory, ContentFactory, JobFactory, UserFactory
from webhooks.models import WebhookMessage, WebhookSubscription

STATUS_FIELDS = ("status", "lifecycle_status", "state")

# Models whose status moves outside the mechanism, and why. Keep it short.
EXEMPT = {
    # The sender's marks (claimed, sent, failed, outcome unknown) are the exactly-once machinery: set-based
    # conditional UPDATEs whose outcome record is the delivery row itself (message id, error, times).
    "publishing.EmailDelivery": "the email sender's marks",
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
    # A notify step's digest: claimed, then sent, failed or outcome unknown by its sender's conditional
    # UPDATEs, like the email sender's deliveries.
    "automation.JourneyNotification": "the journey notification sender's marks",
}

# Files allowed to set a status outside the mechanism (by assignment, in an UPDATE, a bulk_update or an
# update_or_create), with the reason. These moves are high-volume internal marks, set-based by design;
# a move a person makes or sees goes through the mechanism even on these models.
ASSIGNING = {
    "gateways/errors.py": 1,  # an HTTP status carried by an error, not a model's
    "gateways/testing/ses.py": 2,  # the local SES server's own account state, not a model's
    # _move_claimed: the dispatcher's conditional UPDATE on its claim replaces the lock (the workflow still
    # checks and records the move), then sets its own copy; the dispatcher's claim is its set-based UPDATE.
    "publishing/services/jobs.py": 2,
    "publishing/dispatcher.py": 1,
    "publishing/services/content.py": 1,  # Review, see EXEMPT
    "publishing/services/analysis.py": 3,  # ContentAnalysis, see EXEMPT
    # JourneyEnrolment: a contact's place in a journey moves with each step, set-based for a whole claimed
    # batch in the same transaction as the step's effect, and the step log row (unique per visit) is its
    # record; likewise the exits of an archive (recorded by the journey's own move), of exit triggers and
    # of goals reached. A person taking a contact off goes through the enrolment workflow.
    "automation/services/journeys.py": 1,
    "automation/services/runner.py": 2,
    "automation/services/triggers.py": 3,
    "automation/services/notifications.py": 5,  # JourneyNotification, see EXEMPT
    "automation/services/test_mode.py": 1,  # a restarted test run leaves the earlier one
    "publishing/email/sender/batch.py": 1,  # EmailDelivery, see EXEMPT
    "publishing/email/services/campaigns.py": 2,  # EmailDelivery (a cancel drops the queued; lease recovery)
    # WebhookMessage: the outbox sender's marks (delivered, given up), recorded per attempt (WebhookDelivery);
    # a retry by hand goes through the message workflow.
    "webhooks/services.py": 2,
    "publishing/services/checks.py": 2,  # LinkReport, see EXEMPT
    # EnrichmentRunItem, see EXEMPT: a cancel skips the queued, an outage releases or fails a batch, a
    # refusal fails it, a worked batch takes each item's outcome (an assignment, then one bulk_update).
    "crm/services/enrichment.py": 5,
}
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


def _writes_of_a_status(source: str) -> int:
    """Statements that set a status field: an assignment to `<x>.status` (tuples too), an update() or
    update_in_id_order() with a status keyword wherever it stands, a bulk_update() naming a status field, an
    update_or_create() whose defaults do, a setattr() naming one. Not seen: a status handed on in `**fields` or
    written in raw SQL. Those places are the email sender's marks (publishing/email/sender/, EmailDelivery), the
    analysis worker's (ContentAnalysis) and `aicmo_site.runs.run_follow`, by which the shared run row copies the
    move its import or enrichment run made through that run's own workflow."""
    count = 0
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            count += sum(isinstance(part, ast.Attribute) and part.attr in STATUS_FIELDS
                         for target in targets for part in ast.walk(target))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute | ast.Name):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
            keywords = {keyword.arg: keyword.value for keyword in node.keywords}
            updated = [ast.Constant(key) for key in keywords if key]
            named = {"update": updated, "update_in_id_order": updated, "setattr": node.args[1:2],
                     "bulk_update": [*node.args[1:], *keywords.values()],
                     "update_or_create": [keywords.get("defaults", ast.Constant(None))]}.get(name, [])
            count += any(isinstance(part, ast.Constant) and part.value in STATUS_FIELDS
                         for argument in named for part in ast.walk(argument))
    return count


@pytest.mark.parametrize("source, expected", [
    ("job.status = to", 1),
    ("item.status, detail = outcome", 1),
    ("rows.update(finished_at=now, status=to)", 1),
    ("queued.update_in_id_order(status=to, lease_owner='')", 1),
    ("Item.objects.bulk_update(items, ['detail', 'status'])", 1),
    ("Report.objects.update_or_create(content=c, defaults={'status': 'done'})", 1),
    ("setattr(obj, 'lifecycle_status', to)", 1),
    ("rows.filter(status=to).update(note='')", 0),
    ("if job.status == to: pass", 0),
])
def test_the_scan_sees_a_status_set_however_it_is_written(source, expected):
    assert _writes_of_a_status(source) == expected


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
    if model is PushSend:
        return PushSend.objects.create(campaign=CampaignFactory(), title="Hi")
    if model is PushDelivery:
        return PushDelivery.objects.create(send=PushSend.objects.create(campaign=CampaignFactory(), title="Hi"))
    if model is SmsSend:
        return SmsSend.objects.create(campaign=CampaignFactory(), body="Hi")
    if model is SmsDelivery:
        return SmsDelivery.objects.create(send=SmsSend.objects.create(campaign=CampaignFactory(), body="Hi"),
                                          to="+447700900123")
    if model is JourneyEnrolment:
        return JourneyEnrolment.objects.create(journey=journey(), contact=ContactFactory(), reentry="every_time")
    if model is WebhookMessage:
        subscription = WebhookSubscription.objects.create(name="Receiver", url="https://example.com/hook",
                                                          events=["contact.created"])
        return WebhookMessage.objects.create(subscription=subscription, event="contact.created", message_id="m1",
                                             body={})
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
            count = _writes_of_a_status(path.read_text())
            if count:
                found[relative] = count
    assert found == ASSIGNING
