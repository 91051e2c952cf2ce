"""The action steps that reach outside the contact's own record: a static list, another journey, a
signed webhook, a person to notify. Each is applied for a whole claimed batch in the runner's
transaction, so its effect (the list rows, the enrolments, the outbox rows) commits with the move or not
at all. External effects are only queued here; their senders deliver them after commit, at most once."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Max

from automation.choices import JourneyStatus, StepKind
from automation.models import Journey, JourneyEnrolment, JourneyNotification, JourneyStep
from automation.services.enrolment import journey_enrol
from automation.services.notifications import notifications_send_after_commit
from crm.models import Contact, ContactList
from crm.services import contact_list_add, contact_list_remove
from crm.webhook_events import contact_payload
from gateways.capabilities import Capability
from gateways.models import ProviderAccount
from webhooks.models import WebhookSubscription
from webhooks.services import messages_queue

WEBHOOK_EVENT = "journey.webhook"


def config_errors(kind: str, config: dict) -> list[str]:
    """What is wrong with an action step's settings; [] when it can run."""
    if kind in (StepKind.ADD_TO_LIST, StepKind.REMOVE_FROM_LIST):
        return [] if _exists(ContactList, config.get("list_id")) else ["Choose a list of contacts."]
    if kind == StepKind.CALL_WEBHOOK:
        subscription = config.get("subscription_id")
        if not (isinstance(subscription, int)
                and WebhookSubscription.objects.filter(pk=subscription, active=True).exists()):
            return ["Choose an active webhook subscription to call."]
        return []
    if kind == StepKind.NOTIFY:
        if "slack_account_id" in config:
            if not _exists(ProviderAccount, config["slack_account_id"], capability=Capability.CHANNEL_POSTING,
                           channel="slack"):
                return ["Choose the Slack channel to post to (a Slack account in Provider accounts)."]
            return []
        if not _exists(get_user_model(), config.get("user_id"), is_active=True, email__gt=""):
            return ["Choose the person to notify (an active user with an email address)."]
        return []
    if kind == StepKind.CREATE_TASK:
        return _task_errors(config)
    if kind == StepKind.ENROL:
        if not _exists(Journey, config.get("journey_id")):
            return ["Choose the journey to enrol contacts in."]
        return []
    return []


def _task_errors(config: dict) -> list[str]:
    errors = []
    title = config.get("title")
    if not isinstance(title, str) or not title.strip() or len(title) > 200:
        errors.append("Give the task a title (at most 200 characters).")
    if not _exists(get_user_model(), config.get("user_id"), is_active=True):
        errors.append("Choose the person the task is for.")
    days = config.get("due_in_days")
    if days is not None and not (isinstance(days, int) and not isinstance(days, bool) and 0 <= days <= 365):
        errors.append("Give the due date as 0 to 365 days after the step, or none.")
    return errors


def _exists(model, pk, **filters) -> bool:
    return isinstance(pk, int) and not isinstance(pk, bool) and model.objects.filter(pk=pk, **filters).exists()


def contacts_list_add(step: JourneyStep, contact_ids: list[int]) -> None:
    contact_list = ContactList.objects.filter(pk=step.config["list_id"]).first()
    if contact_list is not None:
        contact_list_add(contact_list=contact_list, contacts=contact_ids)


def contacts_list_remove(step: JourneyStep, contact_ids: list[int]) -> None:
    contact_list = ContactList.objects.filter(pk=step.config["list_id"]).first()
    if contact_list is not None:
        contact_list_remove(contact_list=contact_list, contacts=contact_ids)


def contacts_enrol(step: JourneyStep, contact_ids: list[int], now) -> set[int]:
    """Enrols the contacts in the step's target journey under that journey's re-entry rule; returns who
    entered it. A target that is not active (paused, archived, deleted) enrols nobody rather than holding
    the whole batch back."""
    target = Journey.objects.filter(pk=step.config["journey_id"], status=JourneyStatus.ACTIVE).first()
    if target is None:
        return set()
    enrolments = JourneyEnrolment.objects.filter(journey=target, contact_id__in=contact_ids)
    before = enrolments.aggregate(last=Max("pk"))["last"] or 0
    journey_enrol(journey=target, contacts=Contact.objects.filter(pk__in=contact_ids),
                  source=f"journey:{step.journey_id}", now=now)
    return set(enrolments.filter(pk__gt=before).values_list("contact_id", flat=True))


def webhooks_queue(step: JourneyStep, rows: list[tuple]) -> bool:
    """One signed message per contact to the step's subscription; its id is the contact's visit of the
    step, so the receiver can tell a retry from a new call. False when the subscription is gone."""
    subscription = WebhookSubscription.objects.filter(pk=step.config["subscription_id"], active=True).first()
    if subscription is None:
        return False
    contacts = {contact.pk: contact for contact in Contact.objects.filter(pk__in=[row[1] for row in rows])}
    journey = {"journey_id": step.journey_id, "journey": step.journey.name}
    messages_queue(subscription=subscription, event=WEBHOOK_EVENT, messages=[
        (f"msg_journey_{enrolment_id}_{visit}",
         {"contact": contact_payload(contacts[contact_id]), **journey, "step": step.key, "enrolment_id": enrolment_id})
        for enrolment_id, contact_id, _step, visit, _is_test in rows])
    return True


def notification_queue(step: JourneyStep, contact_ids: list[int], now) -> None:
    """One digest for the batch (not one email per contact): a step that a thousand contacts reach in a
    minute tells its person once, listing them, instead of flooding their inbox."""
    JourneyNotification.objects.create(step=step, user_id=step.config.get("user_id"),
                                       slack_account_id=step.config.get("slack_account_id"),
                                       contact_ids=sorted(contact_ids), created_at=now)
    notifications_send_after_commit()
