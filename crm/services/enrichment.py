"""The enrichment pipeline: a run over chosen contacts, worked in batches through the gateways.

Each batch asks enrichment, then verification, and only then writes, in one transaction: a
provider outage in either call leaves the whole batch queued for a later retry and nothing
half-written. Items are claimed with a token, so two workers on one run never take the same
contacts, and a finished item is never worked again: running a run twice changes nothing.
"""

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django_q.tasks import async_task

from aicmo_site.audit import audit_operation, audit_quietly
from aicmo_site.errors import DomainError
from aicmo_site.transitions import Workflow
from crm import conf
from crm.choices import RUN_TERMINAL, EmailStatus, EnrichmentItemStatus, LifecycleStatus, RunStatus, SuppressionReason
from crm.models import Contact, EnrichmentRun, EnrichmentRunItem, Segment
from crm.run_rows import shared_run_create, shared_run_follow
from crm.segments import rules_q
from crm.services.contacts import contact_merge_enrichment, contact_transition_if_allowed
from crm.services.engagement import suppression_add
from gateways import services as gateways
from gateways.capabilities import Capability, PersonQuery
from gateways.errors import NoProviderAvailable, ProviderRejected, ProviderUnavailable
from gateways.readiness import Readiness, capability_readiness

logger = logging.getLogger(__name__)
VERDICTS = {EmailStatus.VALID, EmailStatus.RISKY, EmailStatus.INVALID}

# The one table of enrichment run moves; RUN_TERMINAL states have none. A run with nothing to do
# completes as it is created; a running run waits again (queued) when the providers are down, and
# completes from "queued" when another worker settled its last contacts meanwhile. No move fails a run:
# contacts fail one by one and the run completes with their count.
ENRICHMENT_RUN_TRANSITIONS = {
    RunStatus.QUEUED: {RunStatus.RUNNING, RunStatus.COMPLETED, RunStatus.CANCELED},
    RunStatus.RUNNING: {RunStatus.QUEUED, RunStatus.COMPLETED, RunStatus.CANCELED},
    **{status: set() for status in RUN_TERMINAL},
}
ENRICHMENT_RUN_WORKFLOW = Workflow(model=EnrichmentRun, transitions=ENRICHMENT_RUN_TRANSITIONS,
                                   terminal=RUN_TERMINAL, noun="enrichment run", clean_exclude=[])


def _scope_queryset(*, contact_ids, segment: Segment | None, all_new: bool, matching, matching_filter: str):
    chosen = [bool(contact_ids), segment is not None, all_new, matching is not None]
    if sum(chosen) != 1:
        raise DomainError("Choose exactly one of: some contacts, a segment, the contacts matching a filter, "
                          "or all new contacts.", code="invalid_scope")
    contacts = Contact.objects.filter(erased_at__isnull=True)
    if contact_ids:
        return contacts.filter(pk__in=list(contact_ids)), {"contact_ids": sorted(contact_ids)}
    if matching is not None:
        # The run keeps the filter it was asked for, not its thousands of ids.
        return contacts.filter(pk__in=matching.order_by().values("pk")), {"filter": matching_filter}
    if segment is not None:
        return contacts.filter(rules_q(segment.rules)), {"segment_id": segment.pk, "segment": segment.name}
    return contacts.filter(lifecycle_status=LifecycleStatus.NEW), {"all_new": True}


def _enqueue(run: EnrichmentRun) -> None:
    transaction.on_commit(lambda: async_task("crm.tasks.enrichment_run_process_task", run.pk,
                                             task_name=f"crm-enrichment-run-{run.pk}"))


def enrichment_readiness(*, verify_only: bool = False) -> Readiness:
    """A run does useful work when a real provider enriches or verifies (a verify-only run: verifies)."""
    verification = capability_readiness(Capability.EMAIL_VERIFICATION)
    if verify_only or verification.ready:
        return verification
    enrichment = capability_readiness(Capability.LEAD_ENRICHMENT)
    if enrichment.ready:
        return enrichment
    return Readiness(False, f"{enrichment.reason} {verification.reason}", enrichment.fix_url)


@transaction.atomic
def enrichment_run_create(*, by=None, contact_ids=(), segment: Segment | None = None, all_new: bool = False,
                          matching: QuerySet[Contact] | None = None, matching_filter: str = "",
                          verify_only: bool = False, enqueue: bool = True) -> EnrichmentRun:
    """Queues the chosen contacts, except those already waiting in another open run. `matching`: every
    contact of a list page's filter (`matching_filter`, its query string, is kept to say so).
    `verify_only` asks only the verification providers (no enrichment credits spent). Refused, with
    the reason and the link to fix it, when no real provider could do the run's work."""
    readiness = enrichment_readiness(verify_only=verify_only)
    if not readiness.ready:
        raise DomainError(f"Enrichment cannot start: {readiness.reason}", code="no_provider",
                          extra={"fix_url": readiness.fix_url})
    contacts, scope = _scope_queryset(contact_ids=contact_ids, segment=segment, all_new=all_new,
                                      matching=matching, matching_filter=matching_filter)
    if verify_only:
        scope["verify_only"] = True
    waiting = EnrichmentRunItem.objects.filter(status=EnrichmentItemStatus.QUEUED).exclude(
        run__status__in=RUN_TERMINAL).values("contact_id")
    run = EnrichmentRun(requested_by=by, scope=scope)
    run.full_clean()
    run.save()
    table = connection.ops.quote_name(EnrichmentRunItem._meta.db_table)
    ids_sql, params = contacts.exclude(pk__in=waiting).order_by().values("id").query.sql_with_params()
    with connection.cursor() as cursor:
        # A quoted table name and Django's own compiled subquery; every value is a parameter.
        cursor.execute(
            f"INSERT INTO {table} (run_id, contact_id, status, attempts, enriched, detail, claim_token, "  # noqa: S608
            f"updated_at) SELECT %s, picked.id, %s, 0, %s, '', '', %s FROM ({ids_sql}) picked",
            [run.pk, EnrichmentItemStatus.QUEUED, False, timezone.now(), *params],
        )
        queued = cursor.rowcount
    run.total = run.queued = queued
    run.save(update_fields=["total", "queued"])
    if not queued:
        # Created in this transaction, so no one else can hold the row.
        run = ENRICHMENT_RUN_WORKFLOW.transition(
            run, RunStatus.COMPLETED, by=by, locked=True,
            fields={"finished_at": timezone.now(),
                    "error": "Nothing to do: no contact in this selection is waiting to be enriched."})
    shared_run_create(run)
    if queued and enqueue:
        _enqueue(run)
    return run


def _run_move(run: EnrichmentRun, to: str, *, by=None, **fields) -> EnrichmentRun:
    """Moves a run whose row the caller has locked, and its shared row with it. A run already there (a
    second worker finding it running, a run already waiting for the providers) only takes the new
    fields: it does not move, so there is no move to record."""
    if run.status == to:
        for name, value in fields.items():
            setattr(run, name, value)
        run.save(update_fields=list(fields))
    else:
        run = ENRICHMENT_RUN_WORKFLOW.transition(run, to, by=by, note=fields.get("error", ""), locked=True,
                                                 fields=fields)
    shared_run_follow(run)
    return run


@transaction.atomic
def enrichment_run_cancel(*, run: EnrichmentRun, by=None) -> EnrichmentRun:
    run = EnrichmentRun.objects.select_for_update().get(pk=run.pk)
    if run.status in RUN_TERMINAL:
        raise DomainError(f"This run is already {run.get_status_display().lower()}.", code="run_finished")
    run.items.filter(status=EnrichmentItemStatus.QUEUED).update(status=EnrichmentItemStatus.SKIPPED,
                                                                detail="run canceled")
    run = _run_move(run, RunStatus.CANCELED, by=by, finished_at=timezone.now())
    run = _counts_refresh(run)
    _audit_run(run, by=by)
    return run


def _audit_run(run: EnrichmentRun, *, by=None) -> None:
    """One audit entry for the contacts a run changed (found by a provider, or given a verdict), with
    the link to the run that lists each one and what it got."""
    changed = run.items.filter(Q(enriched=True) | Q(status=EnrichmentItemStatus.VERIFIED)).count()
    if not changed:
        return
    action = "Verified by run" if run.scope.get("verify_only") else "Enriched by run"
    audit_operation(model=Contact, action=f"{action} {run.pk}", count=changed, by=by or run.requested_by, run=run,
                    link=reverse("crm:enrichment-run", args=[run.pk]),
                    details={"enriched": run.enriched, "verified": run.verified, "status": run.status})


def _lease() -> timedelta:
    return timedelta(seconds=settings.Q_CLUSTER.get("timeout", 600))


def _claim_batch(run: EnrichmentRun) -> tuple[str, list[EnrichmentRunItem]]:
    token = uuid.uuid4().hex
    now = timezone.now()
    free = Q(claim_token="") | Q(claimed_at__lt=now - _lease())
    ids = list(run.items.filter(free, status=EnrichmentItemStatus.QUEUED).order_by("id")
               .values_list("id", flat=True)[:conf.enrichment_batch_size()])
    # The UPDATE re-checks the condition, so a batch another worker took meanwhile is not taken twice.
    EnrichmentRunItem.objects.filter(free, pk__in=ids, status=EnrichmentItemStatus.QUEUED).update(
        claim_token=token, claimed_at=now)
    return token, list(EnrichmentRunItem.objects.filter(claim_token=token).select_related("contact__company"))


def _person_query(contact: Contact) -> PersonQuery:
    return PersonQuery(ref=str(contact.pk), email=contact.email, first_name=contact.first_name,
                       last_name=contact.last_name, company=contact.company.name if contact.company else "",
                       domain=contact.domain, linkedin_url=contact.linkedin_url)


@transaction.atomic
def _counts_refresh(run: EnrichmentRun) -> EnrichmentRun:
    """Contacts by status, except "enriched": every contact a provider found, including those then verified
    (their status is "verified"), so a run that filled fields never reports 0 enriched."""
    counts = run.items.aggregate(**{name: Count("id", filter=Q(status=name)) for name in EnrichmentItemStatus.values
                                    if name != EnrichmentItemStatus.ENRICHED},
                                 enriched=Count("id", filter=Q(enriched=True)))
    for name, count in counts.items():
        setattr(run, name, count)
    run.progressed_at = timezone.now()
    run.save(update_fields=[*counts, "progressed_at"])
    shared_run_follow(run, figures_only=True)
    return run


def _release_after_outage(token: str, error: Exception) -> None:
    """Nothing was written: the batch waits for a retry, until a contact has waited too often."""
    detail = f"provider outage: {error}"[:300]
    items = EnrichmentRunItem.objects.filter(claim_token=token)
    items.filter(attempts__gte=conf.enrichment_max_attempts() - 1).update(
        status=EnrichmentItemStatus.FAILED, claim_token="", attempts=F("attempts") + 1, detail=detail)
    items.update(claim_token="", attempts=F("attempts") + 1, detail=detail)


def _fail_batch(token: str, error: Exception) -> None:
    EnrichmentRunItem.objects.filter(claim_token=token).update(
        status=EnrichmentItemStatus.FAILED, claim_token="", detail=f"refused: {error}"[:300])


def _ask_providers(contacts: list[Contact], *, verify_only: bool) -> tuple[dict, dict]:
    """Both calls happen before any write. Returns {contact id: EnrichedPerson}, {contact id: (status, provider)}."""
    enriched = gateways.ChainResult(skipped=True) if verify_only else gateways.enrich_people(
        [_person_query(contact) for contact in contacts])
    people = {} if enriched.skipped else {int(person.ref): person for person in enriched.value or [] if person}
    verified = gateways.verify_emails([contact.email for contact in contacts])
    answers = [] if verified.skipped else zip(contacts, verified.value, strict=True)
    verdicts = {contact.pk: (verdict.status, verdict.provider) for contact, verdict in answers}
    return people, verdicts


def _apply_one(contact: Contact, person, verdict) -> tuple[str, str]:
    """(status, detail); a provider found the person when `person` is not None."""
    status, notes = EnrichmentItemStatus.SKIPPED, []
    if person is not None:
        changed = contact_merge_enrichment(contact=contact, provider=person.provider, fields=person.fields,
                                           raw=person.raw)
        contact_transition_if_allowed(contact=contact, to=LifecycleStatus.ENRICHED, by_system="enrichment",
                                      reason=f"Enriched by {person.provider}")
        status = EnrichmentItemStatus.ENRICHED
        notes.append(f"{person.provider}: {', '.join(changed) or 'nothing new'}")
        if verdict is None and person.email_status:
            verdict = (person.email_status, person.provider)
    if verdict and verdict[0] in VERDICTS:
        email_status, provider = verdict
        Contact.objects.filter(pk=contact.pk).update(email_status=email_status, updated_at=timezone.now())
        if email_status == EmailStatus.INVALID:
            with audit_quietly():  # in the run's one entry
                suppression_add(value=contact.email, reason=SuppressionReason.INVALID,
                                source=f"verification:{provider}")
        else:
            contact_transition_if_allowed(contact=contact, to=LifecycleStatus.VERIFIED, by_system="verification",
                                          reason=f"{provider} says the address is {email_status}")
        status = EnrichmentItemStatus.VERIFIED
        notes.append(f"{provider}: {email_status}")
    return status, "; ".join(notes) or "no provider knew this person"


@transaction.atomic
def _apply_batch(items: list[EnrichmentRunItem], people: dict, verdicts: dict) -> None:
    """The contacts' changes are logged once for the whole run when it ends (`_audit_run`), not one
    entry per contact."""
    with audit_quietly():
        _apply_each(items, people, verdicts)


def _apply_each(items: list[EnrichmentRunItem], people: dict, verdicts: dict) -> None:
    for item in items:
        person = people.get(item.contact_id)
        item.status, detail = _apply_one(item.contact, person, verdicts.get(item.contact_id))
        item.detail, item.claim_token, item.enriched = detail[:300], "", person is not None
    EnrichmentRunItem.objects.bulk_update(items, ["status", "detail", "claim_token", "enriched"])


@transaction.atomic
def _run_start(run_id: int) -> EnrichmentRun | None:
    run = EnrichmentRun.objects.select_for_update().get(pk=run_id)
    if run.status in RUN_TERMINAL:
        return None
    return _run_move(run, RunStatus.RUNNING, error="", started_at=run.started_at or timezone.now())


@transaction.atomic
def _run_settle(run_id: int, *, waiting_for: Exception | None = None) -> EnrichmentRun:
    run = _counts_refresh(EnrichmentRun.objects.select_for_update().get(pk=run_id))
    if run.status in RUN_TERMINAL:
        return run
    if waiting_for is not None and run.queued:
        return _run_move(run, RunStatus.QUEUED, error=(
            f"Waiting for a provider, {run.queued} contacts will be retried: {waiting_for}"[:2000]))
    if not run.queued:
        error = f"Gave up on {run.failed} contacts after provider outages: {waiting_for}"[:2000] \
            if waiting_for is not None else ""
        run = _run_move(run, RunStatus.COMPLETED, finished_at=timezone.now(), error=error)
        _audit_run(run)
        return run
    # Contacts still claimed by another worker: that worker settles the run.
    return run


def enrichment_run_process(*, run_id: int) -> EnrichmentRun:
    """Works the run's queued contacts batch by batch; holds no transaction across a provider call."""
    run = _run_start(run_id)
    if run is None:
        return EnrichmentRun.objects.get(pk=run_id)
    while True:
        token, items = _claim_batch(run)
        if not items:
            return _run_settle(run.pk)
        try:
            people, verdicts = _ask_providers([item.contact for item in items],
                                              verify_only=bool(run.scope.get("verify_only")))
        except (NoProviderAvailable, ProviderUnavailable) as error:
            logger.warning("Enrichment run %s waits for providers: %s", run.pk, error)
            _release_after_outage(token, error)
            return _run_settle(run.pk, waiting_for=error)
        except (ProviderRejected, DomainError) as error:
            _fail_batch(token, error)
        else:
            _apply_batch(items, people, verdicts)
        _counts_refresh(run)


def enrichment_runs_waiting() -> list[int]:
    """Open runs that still have contacts to work (after an outage, or a worker that died)."""
    return list(EnrichmentRun.objects.exclude(status__in=RUN_TERMINAL)
                .filter(items__status=EnrichmentItemStatus.QUEUED).values_list("pk", flat=True).distinct())
