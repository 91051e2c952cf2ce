"""The send of a campaign: set-up, checklist, freezing the audience, pause, resume, cancel, completion."""

from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Value
from django.utils import timezone

from aicmo_site.errors import ConflictError, DomainError
from aicmo_site.transitions import Action, Change, Workflow
from crm.models import Contact
from crm.selectors import audience_contacts, contacts_emailable
from gateways.capabilities import Capability
from gateways.readiness import Readiness, capability_readiness
from publishing.email.choices import DELIVERY_UNSENT, SEND_TERMINAL, SEND_TRANSITIONS, DeliveryStatus, SendStatus
from publishing.email.layouts import template_html_source
from publishing.email.models import EmailCampaign, EmailCampaignEvent, EmailDelivery, EmailTemplate
from publishing.email.rendering import check_template
from publishing.email.services.ab_tests import ab_test_assign
from publishing.email.services.send_times import best_hour_refusal, deliveries_spread_to_best_hours
from publishing.email.services.wake import campaign_turn_queue, campaign_wake
from publishing.email.webhook_events import email_send_event_emit
from publishing.services.campaign_workflow import campaign_complete_if_done

SETUP_FIELDS = ("template", "from_email", "from_name", "reply_to", "subject", "preheader", "deliver_at_best_hour")


def _recorded(change: Change) -> None:
    """The send's own history (shown on its page) and the webhook subscribers hear of the move."""
    EmailCampaignEvent.objects.create(email_campaign=change.obj, from_status=change.source, to_status=change.target,
                                      by=change.by, note=change.note)
    email_send_event_emit(change.obj, source=change.source)


_CHANGE = "publishing.change_emailcampaign"
EMAIL_SEND_WORKFLOW = Workflow(
    model=EmailCampaign, transitions=SEND_TRANSITIONS, terminal=SEND_TERMINAL, noun="send", audit=_recorded,
    audit_model=EmailCampaignEvent,
    actions=[
        Action("send", "Send now", to=SendStatus.SENDING, permission=_CHANGE, sources={SendStatus.DRAFT}),
        Action("pause", "Pause", to=SendStatus.PAUSED, permission=_CHANGE),
        Action("resume", "Resume", to=SendStatus.SENDING, permission=_CHANGE, sources={SendStatus.PAUSED}),
        Action("cancel", "Cancel", to=SendStatus.CANCELED, permission=_CHANGE),
    ],
)


def email_campaign_transition(*, email_campaign: EmailCampaign, to: str, by=None, note: str = "",
                              **fields) -> EmailCampaign:
    """The one way a send changes status. The row is locked first, so a pause racing a completion cannot
    both win."""
    return EMAIL_SEND_WORKFLOW.transition(email_campaign, to, by=by, note=note, fields=fields)


@transaction.atomic
def email_campaign_set_up(*, campaign, template: EmailTemplate, by=None, **fields) -> EmailCampaign:
    """Create or change the email side of a campaign; only before it is sent."""
    unknown = set(fields) - set(SETUP_FIELDS)
    if unknown:
        raise DomainError(f"Unknown fields: {', '.join(sorted(unknown))}.", code="invalid_fields")
    email_campaign, _ = EmailCampaign.objects.select_for_update().get_or_create(
        campaign=campaign, defaults={"template": template})
    if email_campaign.status != SendStatus.DRAFT:
        raise ConflictError("This campaign's email has already been sent.", code="already_sent")
    email_campaign.template = template
    for name, value in fields.items():
        setattr(email_campaign, name, value)
    email_campaign.full_clean()
    email_campaign.save()
    return email_campaign


def audience_queryset(campaign):
    return contacts_emailable(audience_contacts(campaign.audience or {}))


def email_sending_readiness() -> Readiness:
    """Can a real provider send email now? Placeholders and accounts that are down cannot."""
    return capability_readiness(Capability.EMAIL_SENDING)


def email_campaign_checklist(email_campaign: EmailCampaign) -> list[dict]:
    """What must hold before sending; each item: {"key", "label", "ok", "detail"} and, where a
    setting elsewhere fixes it, "fix_url"."""
    template = email_campaign.template
    problems_in_template = []
    try:
        # As it is sent: in its layout (which may hold the unsubscribe link) and compiled from MJML.
        html_body = template_html_source(template)
    except DomainError as exc:
        html_body = ""
        problems_in_template.append(exc.message)
    sources = {"subject": email_campaign.subject_line, "preheader": email_campaign.preheader or template.preheader,
               "html_body": html_body, "text_body": template.text_body}
    for name, source in sources.items():
        try:
            check_template(source or "", field_name=name)
        except DomainError as exc:
            problems_in_template.append(exc.message)
    bodies = html_body + template.text_body
    audience = audience_queryset(email_campaign.campaign).count()
    sending = email_sending_readiness()
    return [
        {"key": "subject", "label": "Subject set", "ok": bool(email_campaign.subject_line.strip()),
         "detail": email_campaign.subject_line},
        {"key": "unsubscribe_link", "label": "Unsubscribe link in the body", "ok": "unsubscribe_url" in bodies,
         "detail": "Put {{ unsubscribe_url }} in a link of the body."},
        {"key": "audience", "label": "Audience not empty", "ok": audience > 0,
         "detail": f"{audience} contacts can be emailed"},
        {"key": "sender", "label": "Sending provider configured", "ok": sending.ready,
         "detail": (f"{sending.provider}, from {email_campaign.sender or 'the sending account’s own address'}"
                    if sending.ready else sending.reason), "fix_url": "" if sending.ready else sending.fix_url},
        {"key": "template", "label": "Template reads correctly", "ok": not problems_in_template,
         "detail": "; ".join(problems_in_template)},
    ]


def _freeze_audience(email_campaign: EmailCampaign) -> int:
    """One INSERT … SELECT: every emailable contact once; the unique constraint makes a repeat harmless."""
    contacts = audience_queryset(email_campaign.campaign).order_by().annotate(audience_id=F("pk")).values(
        "audience_id")
    _insert_deliveries(email_campaign.campaign_id, contacts)
    return EmailDelivery.objects.filter(campaign_id=email_campaign.campaign_id).count()


def _insert_deliveries(campaign_id: int, contacts) -> int:
    """`contacts`: a queryset of values("audience_id") or values("audience_id", "occurrence"). Returns how
    many rows were new."""
    if "occurrence" not in contacts.query.annotations:
        contacts = contacts.annotate(occurrence=Value(0)).values("audience_id", "occurrence")
    select_sql, params = contacts.query.sql_with_params()
    table = EmailDelivery._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (campaign_id, contact_id, occurrence, held, status, message_id, provider, "  # noqa: S608
            "provider_response, attempts, lease_owner, failover_note, error, open_count, click_count, created_at) "
            "SELECT %s, audience.audience_id, audience.occurrence, %s, %s, '', '', '', 0, '', '', '', 0, 0, %s "
            f"FROM ({select_sql}) AS audience "
            # SQLite reads "ON" after a bare FROM as a join condition; the WHERE ends the SELECT first.
            "WHERE 1 = 1 ON CONFLICT DO NOTHING",
            [campaign_id, False, DeliveryStatus.QUEUED, timezone.now(), *params],
        )
        return cursor.rowcount


@transaction.atomic
def email_campaign_send(*, email_campaign: EmailCampaign, by=None) -> EmailCampaign:
    unmet = [item for item in email_campaign_checklist(email_campaign) if not item["ok"]]
    if unmet:
        failing = [item["label"] for item in unmet]
        fixable = [item for item in unmet if item.get("fix_url")]
        reasons = "".join(f" {item['detail']}" for item in fixable)
        raise DomainError(f"Not ready to send: {', '.join(failing)}.{reasons}", code="checklist_failed",
                          extra={"failing": failing, "fix_url": fixable[0]["fix_url"] if fixable else ""})
    refusal = best_hour_refusal(email_campaign)
    if refusal:
        raise DomainError(refusal, code="best_hour_with_ab_test")
    email_campaign_transition(email_campaign=email_campaign, to=SendStatus.SENDING, by=by, note="Sending started",
                              requested_by=by, started_at=timezone.now())
    size = _freeze_audience(email_campaign)
    EmailCampaign.objects.filter(pk=email_campaign.pk).update(audience_size=size)
    email_campaign.audience_size = size
    ab_test_assign(email_campaign=email_campaign)
    if email_campaign.deliver_at_best_hour:
        deliveries_spread_to_best_hours(email_campaign=email_campaign)
    transaction.on_commit(lambda: campaign_wake(email_campaign.pk))
    return email_campaign


@transaction.atomic
def email_campaign_open(*, campaign, template: EmailTemplate, by=None, **fields) -> EmailCampaign:
    """A send fed contact by contact (by a journey) rather than frozen at once: the checklist holds
    except for the audience, which starts empty; it stays sending until canceled."""
    email_campaign = email_campaign_set_up(campaign=campaign, template=template, by=by, **fields)
    unmet = [item for item in email_campaign_checklist(email_campaign) if not item["ok"] and item["key"] != "audience"]
    if unmet:
        raise DomainError(f"Not ready to send: {', '.join(item['label'] for item in unmet)}.",
                          code="checklist_failed", extra={"failing": [item["label"] for item in unmet]})
    EmailCampaign.objects.filter(pk=email_campaign.pk).update(kept_open=True)
    email_campaign.kept_open = True
    return email_campaign_transition(email_campaign=email_campaign, to=SendStatus.SENDING, by=by,
                                     note="Open: fed by a journey", requested_by=by, started_at=timezone.now())


@transaction.atomic
def email_deliveries_add(*, email_campaign: EmailCampaign, contact_ids=None, occurrences=None) -> int:
    """Queue the send for these contacts, only those email may go to (consent, suppression), each at
    most once per occurrence (the delivery's unique constraint, so a repeat adds nothing); the workers are
    woken after commit. Returns how many deliveries were added.

    `occurrences`, instead of `contact_ids`: a queryset of values("audience_id", "occurrence") for a send
    that may reach a contact again, once per occurrence (a journey's email step: once per enrolment)."""
    if occurrences is not None:
        contacts = occurrences.filter(audience_id__in=contacts_emailable(Contact.objects.all()).values("pk"))
    else:
        contacts = contacts_emailable(Contact.objects.filter(pk__in=contact_ids)).order_by().annotate(
            audience_id=F("pk")).values("audience_id")
    added = _insert_deliveries(email_campaign.campaign_id, contacts)
    if added:
        EmailCampaign.objects.filter(pk=email_campaign.pk).update(audience_size=F("audience_size") + added)
        if email_campaign.kept_open:
            transaction.on_commit(lambda: campaign_turn_queue(email_campaign.pk))
        else:
            transaction.on_commit(lambda: campaign_wake(email_campaign.pk, workers=1))
    return added


@transaction.atomic
def email_campaign_close(*, email_campaign: EmailCampaign) -> bool:
    """No more contacts will be added to an open send: it completes once what is queued has gone out
    (now, if nothing is). Returns whether it completed now."""
    EmailCampaign.objects.filter(pk=email_campaign.pk).update(kept_open=False)
    email_campaign.kept_open = False
    return email_campaign_complete_if_done(email_campaign_id=email_campaign.pk)


@transaction.atomic
def email_campaign_schedule(*, email_campaign: EmailCampaign, send_at, by=None) -> EmailCampaign:
    """Start the send by itself at `send_at` (None: no longer scheduled). Checked now, so a send that
    cannot go out is not left to fail unseen at night; checked again when it starts."""
    email_campaign = EmailCampaign.objects.select_for_update().get(pk=email_campaign.pk)
    if email_campaign.status != SendStatus.DRAFT:
        raise ConflictError("Only a send not yet started can be scheduled.", code="already_sent")
    if send_at is not None:
        if send_at <= timezone.now():
            raise DomainError("Choose a time in the future, or send now.", code="send_at_past")
        failing = [item["label"] for item in email_campaign_checklist(email_campaign) if not item["ok"]]
        if failing:
            raise DomainError(f"Not ready to send: {', '.join(failing)}.", code="checklist_failed",
                              extra={"failing": failing})
    EmailCampaign.objects.filter(pk=email_campaign.pk).update(send_at=send_at, requested_by=by,
                                                              updated_at=timezone.now())
    note = f"Scheduled for {timezone.localtime(send_at):%Y-%m-%d %H:%M %Z}" if send_at else "Schedule removed"
    EmailCampaignEvent.objects.create(email_campaign=email_campaign, from_status=email_campaign.status,
                                      to_status=email_campaign.status, by=by, note=note)
    email_campaign.send_at = send_at
    return email_campaign


def email_campaigns_start_due(*, now=None) -> int:
    """Start every scheduled send whose time has come; one that is no longer ready stays a draft, its
    schedule removed and the reason in its history. Returns how many started."""
    now = now or timezone.now()
    started = 0
    for pk in EmailCampaign.objects.filter(status=SendStatus.DRAFT, send_at__lte=now).values_list("pk", flat=True):
        with transaction.atomic():
            email_campaign = (EmailCampaign.objects.select_for_update(skip_locked=True)
                              .filter(pk=pk, status=SendStatus.DRAFT, send_at__lte=now).select_related("campaign")
                              .first())
            if email_campaign is None:
                continue
            try:
                with transaction.atomic():
                    email_campaign_send(email_campaign=email_campaign, by=email_campaign.requested_by)
            except DomainError as error:
                EmailCampaign.objects.filter(pk=pk).update(send_at=None)
                EmailCampaignEvent.objects.create(email_campaign=email_campaign, from_status=SendStatus.DRAFT,
                                                  to_status=SendStatus.DRAFT,
                                                  note=f"The scheduled send did not start: {error.message}")
            else:
                started += 1
    return started


@transaction.atomic
def email_campaign_pause(*, email_campaign: EmailCampaign, by=None, note: str = "") -> EmailCampaign:
    """No worker starts a message once this commits; a message already started still completes.

    A start is one statement that requires the send to be "sending" (publishing.email.sender.marks). Rewriting
    every queued delivery here, claimed or not, makes a start whose snapshot predates this commit wait
    for it and then find its lease gone; it also gives the claims back at once for the resume."""
    email_campaign_transition(email_campaign=email_campaign, to=SendStatus.PAUSED, by=by, note=note)
    queued = EmailDelivery.objects.filter(campaign_id=email_campaign.campaign_id, status=DeliveryStatus.QUEUED)
    queued.update_in_id_order(lease_owner="", lease_expires_at=None)
    return email_campaign


def email_campaign_pause_for_provider(*, email_campaign_id: int, reason: str) -> bool:
    """A send whose sending provider went away pauses itself, saying why, rather than waiting forever
    with its deliveries queued. False when it was no longer sending (paused or canceled meanwhile)."""
    with transaction.atomic():
        email_campaign = EmailCampaign.objects.select_for_update().get(pk=email_campaign_id)
        if email_campaign.status != SendStatus.SENDING:
            return False
        email_campaign_transition(email_campaign=email_campaign, to=SendStatus.PAUSED,
                                  note=f"Paused: no email sending provider can send. {reason}")
    return True


@transaction.atomic
def email_campaign_resume(*, email_campaign: EmailCampaign, by=None, note: str = "") -> EmailCampaign:
    sending = email_sending_readiness()
    if not sending.ready:
        raise DomainError(f"Cannot resume: {sending.reason}", code="no_provider", extra={"fix_url": sending.fix_url})
    email_campaign_transition(email_campaign=email_campaign, to=SendStatus.SENDING, by=by, note=note or "Resumed")
    transaction.on_commit(lambda: campaign_wake(email_campaign.pk))
    return email_campaign


@transaction.atomic
def email_campaign_cancel(*, email_campaign: EmailCampaign, by=None, note: str = "") -> EmailCampaign:
    """Everything not yet handed to SMTP is canceled; what is being sent right now finishes as it may."""
    email_campaign_transition(email_campaign=email_campaign, to=SendStatus.CANCELED, by=by, note=note,
                              finished_at=timezone.now())
    queued = EmailDelivery.objects.filter(campaign_id=email_campaign.campaign_id, status=DeliveryStatus.QUEUED)
    queued.update_in_id_order(status=DeliveryStatus.CANCELED, lease_owner="", lease_expires_at=None)
    campaign_complete_if_done(campaign_id=email_campaign.campaign_id)
    return email_campaign


@transaction.atomic
def email_campaign_complete_if_done(*, email_campaign_id: int) -> bool:
    """Completed only when no delivery is still owed a send (queued, held for an A/B winner, or sending)."""
    email_campaign = EmailCampaign.objects.select_for_update().get(pk=email_campaign_id)
    if email_campaign.status != SendStatus.SENDING or email_campaign.kept_open:
        return False
    unsent = EmailDelivery.objects.filter(campaign_id=email_campaign.campaign_id, status__in=DELIVERY_UNSENT)
    if unsent.exists():
        return False
    email_campaign_transition(email_campaign=email_campaign, to=SendStatus.COMPLETED, note="Every delivery done",
                              finished_at=timezone.now())
    campaign_complete_if_done(campaign_id=email_campaign.campaign_id)
    return True


@transaction.atomic
def leases_recover(*, campaign_id: int) -> int:
    """A delivery left in "sending" past its lease may have been accepted by the SMTP server before its
    worker died: it becomes outcome_unknown and is never sent again. Returns how many.

    The lease owner is kept: a worker that was only slow (not dead) may still learn the server's answer,
    and its "sent" (which requires its own name on the row) then replaces the unknown outcome."""
    now = timezone.now()
    return EmailDelivery.objects.filter(campaign_id=campaign_id, status=DeliveryStatus.SENDING,
                                        lease_expires_at__lt=now).update(
        status=DeliveryStatus.OUTCOME_UNKNOWN, lease_expires_at=None,
        error="The worker stopped after handing the message to the provider and before recording the answer.",
    )


def campaigns_needing_work():
    """Sends in progress with a delivery due now and no worker holding a live claim (a running worker
    takes the due ones itself; waking more would exceed the configured concurrency)."""
    now = timezone.now()
    due = EmailDelivery.objects.filter(campaign_id=OuterRef("campaign_id"), status=DeliveryStatus.QUEUED,
                                       held=False).exclude(next_attempt_at__gt=now)
    live = EmailDelivery.objects.filter(campaign_id=OuterRef("campaign_id"), lease_expires_at__gt=now)
    return EmailCampaign.objects.filter(status=SendStatus.SENDING).filter(Exists(due)).exclude(Exists(live))
