"""Data retention over a year of synthetic data: a run removes exactly what the policies say, the roll-ups
and the reports read from them are the same before and after, a dry run changes nothing, a rebuild after
the run keeps the days whose events went, and the nightly task runs in a real worker."""

import datetime as dt
import random
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_q.tasks import async_task

from aicmo_site.models import BackgroundRun, InactiveContactAction, RetentionKind, RunKind, RunStatus
from aicmo_site.retention import CONTINUES, INACTIVE_TAG, months_before, retention_apply, retention_policy_update
from aicmo_site.testing.worker import wait_for
from analytics.models import CampaignChannelDay, FoldCheckpoint
from analytics.reports import attribution, campaign_reports, channel_ranking, overview, trend
from analytics.services import rollup_fold
from analytics.services.rollups import rollup_rebuild
from crm.choices import ConsentStatus, EventKind
from crm.choices import RunStatus as ImportStatus
from crm.form_models import FormSubmission, SubscriptionForm
from crm.models import Contact, EngagementEvent, ImportRun
from crm.services.value_tiers import value_tiers_recompute
from crm.tests.factories import ContactFactory
from publishing.email.choices import DeliveryStatus
from publishing.email.models import EmailDelivery, InboundEvent
from publishing.tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db

KINDS = (EventKind.SENT, EventKind.DELIVERED, EventKind.OPENED, EventKind.CLICKED, EventKind.PAGE_VIEW,
         EventKind.CONVERTED, EventKind.BOUNCED, EventKind.UNSUBSCRIBED)
EVENTS_MONTHS, DELIVERIES_MONTHS, UNCONFIRMED_DAYS, INACTIVE_YEARS, IMPORT_DAYS, AUDIT_YEARS = 6, 6, 30, 1, 30, 1


@pytest.fixture
def no_report_cache(settings, tmp_path):
    settings.ANALYTICS_REPORT_CACHE_SECONDS = 0
    settings.MEDIA_ROOT = tmp_path


def _local_noon(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), tzinfo=timezone.get_default_timezone())


class Year:
    """A year of activity, with what each policy must remove written down as it is made."""

    def __init__(self):
        rng = random.Random(22)
        self.today = timezone.localdate()
        self.events_first_kept = months_before(self.today, EVENTS_MONTHS)
        long_ago = timezone.now() - dt.timedelta(days=800)
        self.campaigns = [CampaignFactory() for _ in range(3)]
        self.active = [ContactFactory() for _ in range(30)]
        # Added two years ago and never heard of since: flagged.
        self.silent = [ContactFactory() for _ in range(4)]
        # Added two years ago, active eight months ago only: their events go, but they are not inactive.
        self.quiet = [ContactFactory() for _ in range(3)]
        Contact.objects.filter(pk__in=[c.pk for c in self.silent + self.quiet]).update(created_at=long_ago)
        events = []
        for back in range(365):
            day = self.today - dt.timedelta(days=back)
            for _ in range(rng.randint(4, 12)):
                kind = rng.choice(KINDS)
                campaign = rng.choice(self.campaigns)
                events.append(EngagementEvent(
                    contact=rng.choice(self.active), kind=kind, campaign_id=campaign.pk,
                    channel=rng.choice(("email", "email", "web")),
                    occurred_at=_local_noon(day) + dt.timedelta(minutes=rng.randint(-600, 600)),
                    value=Decimal(rng.randint(10, 500)) if kind == EventKind.CONVERTED else None))
        eight_months_ago = months_before(self.today, 8)
        for contact in self.quiet:
            events.append(EngagementEvent(contact=contact, kind=EventKind.OPENED, channel="email",
                                          campaign_id=self.campaigns[0].pk, occurred_at=_local_noon(eight_months_ago)))
        EngagementEvent.objects.bulk_create(events)
        self.events_removed = sum(timezone.localtime(e.occurred_at).date() < self.events_first_kept
                                  and e.kind != EventKind.CONVERTED for e in events)
        self.events_kept = len(events) - self.events_removed

        self._deliveries(rng)
        self._sign_ups()
        self._imports()
        self._audit_entries()

    def _deliveries(self, rng):
        deliveries_cutoff = months_before(self.today, DELIVERIES_MONTHS)
        rows, created = [], []
        for n, contact in enumerate(self.active):
            back = rng.randint(0, 364)
            sent_at = _local_noon(self.today - dt.timedelta(days=back))
            status = DeliveryStatus.QUEUED if n == 0 else rng.choice((DeliveryStatus.SENT, DeliveryStatus.FAILED))
            rows.append(EmailDelivery(
                campaign=self.campaigns[1], contact=contact, status=status,
                message_id=f"<m{n}@test>", sent_at=sent_at if status == DeliveryStatus.SENT else None,
                provider_response="250 2.0.0 Ok: queued as ABC", error="550 no such user" if
                status == DeliveryStatus.FAILED else "", open_count=n % 3))
            created.append(sent_at)
        EmailDelivery.objects.bulk_create(rows)
        self.deliveries_trimmed = 0
        self.delivery_outcomes = {}
        for delivery, created_at in zip(EmailDelivery.objects.order_by("pk"), created, strict=True):
            EmailDelivery.objects.filter(pk=delivery.pk).update(created_at=created_at)
            old = timezone.localtime(created_at).date() < deliveries_cutoff
            if old and delivery.status != DeliveryStatus.QUEUED:
                self.deliveries_trimmed += 1
            self.delivery_outcomes[delivery.pk] = (delivery.status, delivery.sent_at, delivery.error,
                                                   delivery.open_count, delivery.message_id)
        old_delivery = next(pk for pk, when in zip(self.delivery_outcomes, created, strict=True)
                            if timezone.localtime(when).date() < deliveries_cutoff)
        self.old_report = InboundEvent.objects.create(source="webhook", event_id="old", kind="bounce",
                                                      delivery_id=old_delivery, detail={"diagnostic": "mailbox full"})
        InboundEvent.objects.filter(pk=self.old_report.pk).update(
            received_at=_local_noon(deliveries_cutoff - dt.timedelta(days=3)))
        self.new_report = InboundEvent.objects.create(source="webhook", event_id="new", kind="bounce",
                                                      delivery_id=old_delivery, detail={"diagnostic": "retry"})
        self.deliveries_trimmed += 1

    def _sign_ups(self):
        form = SubscriptionForm.objects.create(name="Newsletter", slug="newsletter", consent_text="Yes, email me.")
        now = timezone.now()

        def signed_up(days_ago, *, source="Form: Newsletter", confirmed=False):
            contact = ContactFactory(source=source, consent_status=ConsentStatus.PENDING,
                                     consent_changed_at=now - dt.timedelta(days=days_ago))
            at = now - dt.timedelta(days=days_ago)
            FormSubmission.objects.create(form=form, contact=contact, email=contact.email, consent_text="Yes",
                                          submitted_at=at, confirmed_at=at if confirmed else None)
            return contact

        self.unconfirmed_old = [signed_up(40), signed_up(31)]
        self.unconfirmed_recent = signed_up(10)
        self.pending_known = signed_up(40, source="import")
        self.pending_confirmed_before = signed_up(40, confirmed=True)

    def _imports(self):
        def finished(days_ago):
            run = ImportRun.objects.create(file=ContentFile(b"email\nann@example.com\n", name="contacts.csv"),
                                           error_report=ContentFile(b"row,error\n", name="errors.csv"),
                                           status=ImportStatus.COMPLETED)
            ImportRun.objects.filter(pk=run.pk).update(finished_at=timezone.now() - dt.timedelta(days=days_ago))
            return ImportRun.objects.get(pk=run.pk)

        self.old_import, self.recent_import = finished(45), finished(5)

    def _audit_entries(self):
        # The policies' own entries are written when the test sets them, after this.
        LogEntry.objects.all().delete()
        for contact in self.active[:6]:
            contact.job_title = "Head of growth"
            contact.save()
        entries = list(LogEntry.objects.order_by("pk"))
        assert len(entries) == 6
        LogEntry.objects.filter(pk__in=[e.pk for e in entries[:4]]).update(
            timestamp=timezone.now() - dt.timedelta(days=2 * 365))
        self.audit_removed = 4


def _policies(**overrides):
    values = {RetentionKind.ENGAGEMENT_EVENTS: EVENTS_MONTHS, RetentionKind.EMAIL_DELIVERIES: DELIVERIES_MONTHS,
              RetentionKind.UNCONFIRMED_CONTACTS: UNCONFIRMED_DAYS, RetentionKind.INACTIVE_CONTACTS: INACTIVE_YEARS,
              RetentionKind.IMPORT_FILES: IMPORT_DAYS, RetentionKind.AUDIT_ENTRIES: AUDIT_YEARS}
    for kind, keep_for in values.items():
        retention_policy_update(kind=kind, enabled=True, keep_for=keep_for, **overrides.get(kind, {}))


def _rollups():
    return sorted(CampaignChannelDay.objects.values_list(
        "campaign_id", "channel", "day", "sent", "emails_sent", "delivered", "opens", "clicks", "replies", "bounces",
        "unsubscribes", "complaints", "page_views", "form_submits", "conversions", "revenue"))


def _reports(year: Year) -> dict:
    start = year.today - dt.timedelta(days=364)
    kept_from = year.events_first_kept
    ids = [c.pk for c in year.campaigns]
    return {
        # Read from the roll-ups: the whole year.
        # The roll-up's lag says when it was last folded, which the run does: not a figure.
        "overview": {k: v for k, v in overview(start=start, end=year.today).items() if k != "rollup_lag"},
        "trend": trend(metric="opens", interval="week", start=start, end=year.today),
        "ranking": channel_ranking(metric="click_through_rate", start=start, end=year.today, minimum_sample=1),
        # Reach and attribution read single events: only the days whose events are kept, and the
        # attribution's look-back after them.
        "campaigns": campaign_reports(ids, start=kept_from, end=year.today),
        "attribution": attribution(model="linear", start=kept_from + dt.timedelta(days=60), end=year.today,
                                   lookback_days=30),
    }


def _everything():
    return {
        "events": EngagementEvent.objects.count(), "contacts": Contact.objects.count(),
        "tagged": Contact.objects.filter(tags__name=INACTIVE_TAG).count(),
        "deliveries": sorted(EmailDelivery.objects.values_list("pk", "provider_response")),
        "reports": sorted(InboundEvent.objects.values_list("pk", "detail")),
        "imports": sorted(ImportRun.objects.values_list("pk", "file", "error_report")),
        "audit": LogEntry.objects.count(),
    }


def test_a_run_removes_exactly_what_the_policies_say_and_keeps_every_figure(no_report_cache):
    year = Year()
    rollup_fold()
    value_tiers_recompute()
    rollups_before, reports_before = _rollups(), _reports(year)
    values_before = dict(Contact.objects.values_list("pk", "lifetime_value"))
    assert any(values_before.values())
    _policies()

    applied = retention_apply(batch_size=100)

    assert applied == {
        RetentionKind.ENGAGEMENT_EVENTS: year.events_removed,
        RetentionKind.EMAIL_DELIVERIES: year.deliveries_trimmed,
        RetentionKind.UNCONFIRMED_CONTACTS: 2,
        RetentionKind.INACTIVE_CONTACTS: len(year.silent),
        RetentionKind.IMPORT_FILES: 1,
        RetentionKind.AUDIT_ENTRIES: year.audit_removed,
    }
    assert year.events_removed > 1000 and year.events_kept > 1000
    # Events: every day before the first kept one went but its conversions, every later one stayed.
    assert EngagementEvent.objects.count() == year.events_kept
    first = EngagementEvent.objects.exclude(kind=EventKind.CONVERTED).order_by("occurred_at").first()
    assert timezone.localtime(first.occurred_at).date() >= year.events_first_kept
    # Lifetime values are summed from the conversions, which stay.
    value_tiers_recompute()
    values_after = dict(Contact.objects.values_list("pk", "lifetime_value"))
    assert values_after == {pk: value for pk, value in values_before.items() if pk in values_after}
    # The roll-ups and the reports are the same figures.
    assert _rollups() == rollups_before
    assert _reports(year) == reports_before
    assert FoldCheckpoint.objects.get().kept_before == year.events_first_kept
    # Deliveries keep their outcomes; only old finished ones lose the provider's answer.
    for pk, status, sent_at, error, opens, message_id in EmailDelivery.objects.values_list(
            "pk", "status", "sent_at", "error", "open_count", "message_id"):
        assert (status, sent_at, error, opens, message_id) == year.delivery_outcomes[pk]
    assert EmailDelivery.objects.filter(provider_response="").count() == year.deliveries_trimmed - 1
    assert InboundEvent.objects.get(pk=year.old_report.pk).detail == {}
    assert InboundEvent.objects.get(pk=year.new_report.pk).detail == {"diagnostic": "retry"}
    # Sign-ups: only the form's own contacts that never confirmed, waiting longer than the policy.
    assert not Contact.objects.filter(pk__in=[c.pk for c in year.unconfirmed_old]).exists()
    assert Contact.objects.filter(pk__in=[year.unconfirmed_recent.pk, year.pending_known.pk,
                                          year.pending_confirmed_before.pk]).count() == 3
    # Inactive contacts: the silent ones are flagged; those whose old events went are not.
    assert set(Contact.objects.filter(tags__name=INACTIVE_TAG).values_list("pk", flat=True)) == {
        c.pk for c in year.silent}
    assert all(c.last_removed_activity_at for c in Contact.objects.filter(pk__in=[c.pk for c in year.quiet]))
    # Imports keep their figures and lose their files.
    old, recent = ImportRun.objects.get(pk=year.old_import.pk), ImportRun.objects.get(pk=year.recent_import.pk)
    assert (old.file.name, old.error_report.name) == ("", "")
    assert not year.old_import.file.storage.exists(year.old_import.file.name)
    assert recent.file.storage.exists(recent.file.name) and recent.error_report.name
    # The old audit entries are gone; the run left one entry of its own with its counts.
    assert not LogEntry.objects.filter(timestamp__lt=timezone.now() - dt.timedelta(days=366)).exists()
    assert LogEntry.objects.filter(timestamp__gte=timezone.now() - dt.timedelta(days=366)).count() > 2
    run_entry = LogEntry.objects.get(additional_data__operation="Applied data retention")
    assert run_entry.additional_data["removed"] == applied

    # The next night finds nothing more; the quiet contacts are still judged by the events that went.
    assert retention_apply(batch_size=100) == dict.fromkeys(applied, 0)
    # A flagged contact who comes back loses the flag on the next run.
    EngagementEvent.objects.create(contact=year.silent[0], kind=EventKind.CLICKED, occurred_at=timezone.now())
    retention_apply(batch_size=100)
    assert set(Contact.objects.filter(tags__name=INACTIVE_TAG).values_list("pk", flat=True)) == {
        c.pk for c in year.silent[1:]}


def test_a_rebuild_after_the_run_keeps_the_days_whose_events_went(no_report_cache):
    year = Year()
    rollup_fold()
    before = _rollups()
    _policies()
    retention_apply(batch_size=500)
    late = EngagementEvent.objects.create(contact=year.active[0], kind=EventKind.OPENED, channel="email",
                                          campaign_id=year.campaigns[0].pk,
                                          occurred_at=_local_noon(year.events_first_kept - dt.timedelta(days=20)))

    rollup_rebuild()

    after = {row[:3]: row for row in _rollups()}
    late_key = (year.campaigns[0].pk, "email", year.events_first_kept - dt.timedelta(days=20))
    expected = {row[:3]: row for row in before}
    opens_before = expected.pop(late_key)[6] if late_key in expected else 0
    assert after.pop(late_key)[6] == opens_before + 1  # the late event is added to the kept day
    assert after == expected
    assert late.pk <= FoldCheckpoint.objects.get().last_id


def test_a_dry_run_counts_what_would_go_and_changes_nothing(no_report_cache):
    year = Year()
    rollup_fold()
    _policies()
    before = _everything()

    counted = retention_apply(dry_run=True)

    assert counted[RetentionKind.ENGAGEMENT_EVENTS] == year.events_removed
    assert counted[RetentionKind.UNCONFIRMED_CONTACTS] == 2
    assert counted[RetentionKind.INACTIVE_CONTACTS] == len(year.silent)
    assert counted[RetentionKind.AUDIT_ENTRIES] == year.audit_removed
    assert _everything() == before
    assert FoldCheckpoint.objects.get().kept_before is None


def test_the_dry_run_command_prints_each_kind_and_deletes_nothing(no_report_cache, capsys):
    year = Year()
    _policies()
    before = _everything()

    call_command("apply_retention", "--dry-run")

    out = capsys.readouterr().out
    assert f"Raw engagement events (kept 6 months, older than {year.events_first_kept:%Y-%m-%d} 00:00): " \
           f"{year.events_removed} would go" in out
    assert "Unconfirmed double opt-in contacts (kept 30 days" in out and "2 would go" in out
    assert _everything() == before


def test_policies_that_are_off_keep_everything(no_report_cache):
    Year()
    retention_policy_update(kind=RetentionKind.AUDIT_ENTRIES, enabled=False, keep_for=1)
    before = _everything()

    assert retention_apply() == {}
    assert _everything() == before


def test_inactive_contacts_are_erased_through_crm_erasure_when_the_policy_says_so(no_report_cache):
    silent, active = ContactFactory(email="silent@example.com"), ContactFactory()
    Contact.objects.filter(pk__in=[silent.pk, active.pk]).update(created_at=timezone.now() - dt.timedelta(days=900))
    EngagementEvent.objects.create(contact=active, kind=EventKind.OPENED, occurred_at=timezone.now())
    retention_policy_update(kind=RetentionKind.INACTIVE_CONTACTS, enabled=True, keep_for=2,
                            action=InactiveContactAction.ERASE)

    assert retention_apply() == {RetentionKind.INACTIVE_CONTACTS: 1}

    silent.refresh_from_db()
    assert silent.erased_at and silent.email.endswith("@erased.invalid") and not silent.first_name
    assert Contact.objects.get(pk=active.pk).erased_at is None
    assert retention_apply() == {RetentionKind.INACTIVE_CONTACTS: 0}


@pytest.mark.worker
def test_the_nightly_task_applies_the_policies_in_a_real_worker_and_records_a_run(qcluster, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    ContactFactory().save()
    LogEntry.objects.update(timestamp=timezone.now() - dt.timedelta(days=800))
    old = LogEntry.objects.count()
    assert old
    retention_policy_update(kind=RetentionKind.AUDIT_ENTRIES, enabled=True, keep_for=1)

    async_task("aicmo_site.tasks.retention_nightly")
    cluster = qcluster()

    run = wait_for(lambda: BackgroundRun.objects.filter(kind=RunKind.RETENTION, status__in=[
        RunStatus.COMPLETED, RunStatus.FAILED]).first(), timeout=90, message="the retention run")
    assert run.status == RunStatus.COMPLETED, (run.error, cluster.output())
    assert run.result == {RetentionKind.AUDIT_ENTRIES: old}
    assert not LogEntry.objects.filter(timestamp__lt=timezone.now() - dt.timedelta(days=366)).exists()


def test_flagged_contacts_are_found_by_the_contacts_list_filter(client, make_user):
    silent, active = ContactFactory(email="silent@example.com"), ContactFactory(email="active@example.com")
    Contact.objects.filter(pk__in=[silent.pk, active.pk]).update(created_at=timezone.now() - dt.timedelta(days=900))
    EngagementEvent.objects.create(contact=active, kind=EventKind.OPENED, occurred_at=timezone.now())
    retention_policy_update(kind=RetentionKind.INACTIVE_CONTACTS, enabled=True, keep_for=2)
    retention_apply()
    client.force_login(make_user("mia", role="Marketer"))

    page = client.get("/contacts/", {"tag": INACTIVE_TAG}).content.decode()

    assert f'<option value="{INACTIVE_TAG}" selected>' in page
    assert "silent@example.com" in page and "active@example.com" not in page


def _old_audit_entries(count: int) -> int:
    retention_policy_update(kind=RetentionKind.AUDIT_ENTRIES, enabled=True, keep_for=1)
    ContactFactory.create_batch(count)
    LogEntry.objects.update(timestamp=timezone.now() - dt.timedelta(days=800))
    return LogEntry.objects.count()


def test_the_command_records_its_run_as_the_nightly_task_does(capsys):
    old = _old_audit_entries(3)

    call_command("apply_retention")

    run = BackgroundRun.objects.get(kind=RunKind.RETENTION)
    assert (run.status, run.result) == (RunStatus.COMPLETED, {RetentionKind.AUDIT_ENTRIES: old})
    assert run.label == "Data retention (apply_retention command)"
    out = capsys.readouterr().out
    assert f"Recorded as run {run.pk}" in out and f"{old} removed" in out
    BackgroundRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING)  # as if still under way
    with pytest.raises(CommandError, match=f"under way \\(run {run.pk}\\)"):
        call_command("apply_retention")


def test_a_run_past_its_time_budget_stops_after_a_batch_and_the_next_run_continues(monkeypatch):
    """The clock moves one second each time it is read: the budget of 2.5 s lets the run start the
    audit-entries policy and delete one batch, then it stops as if its time were spent."""
    old = _old_audit_entries(12)
    ticks = iter(range(10_000))
    monkeypatch.setattr("aicmo_site.retention.time.monotonic", lambda: float(next(ticks)))

    first = retention_apply(batch_size=5, time_budget=2.5)

    assert first == {RetentionKind.AUDIT_ENTRIES: 5, CONTINUES: True}
    assert LogEntry.objects.filter(timestamp__lt=timezone.now() - dt.timedelta(days=400)).count() == old - 5
    second = retention_apply(batch_size=5)
    assert second == {RetentionKind.AUDIT_ENTRIES: old - 5}
    assert not LogEntry.objects.filter(timestamp__lt=timezone.now() - dt.timedelta(days=400)).exists()
