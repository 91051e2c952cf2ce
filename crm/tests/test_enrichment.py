import pytest

from aicmo_site.errors import DomainError
from aicmo_site.models import StatusChange
from crm import services
from crm.choices import EmailStatus, EnrichmentItemStatus, LifecycleStatus, RunStatus
from crm.models import Contact, EnrichmentRecord, EnrichmentRun, LifecycleTransition, Suppression
from crm.tests.factories import ContactFactory, SegmentFactory
from crm.tests.providers import providers_set_up
from gateways.capabilities import Capability
from gateways.models import ProviderAccount
from gateways.tests.factories import ProviderAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    ann = services.contact_create(email="ann@acme.io", job_title="Head of Brand")  # typed by a person
    bob = ContactFactory(email="bob@acme.io", first_name="", last_name="", job_title="")
    nobody = ContactFactory(email="nobody@acme.io")
    dead = ContactFactory(email="dead@acme.io")
    return ann, bob, nobody, dead


def moves(run):
    return list(StatusChange.objects.filter(content_type__model="enrichmentrun", object_id=run.pk).order_by("id")
                .values_list("from_status", "to_status"))


def run_all_new(**kwargs):
    run = services.enrichment_run_create(all_new=True, enqueue=False, **kwargs)
    return services.enrichment_run_process(run_id=run.pk)


def test_run_enriches_verifies_and_counts_with_one_provider_down(httpserver, people, settings):
    settings.CRM_ENRICHMENT_BATCH_SIZE = 3
    ann, bob, nobody, dead = people
    providers_set_up(httpserver)

    run = run_all_new()

    assert run.status == RunStatus.COMPLETED
    assert (run.total, run.queued, run.verified, run.failed, run.skipped) == (4, 0, 4, 0, 0)
    assert run.enriched == 2  # Ann and Bob: Apollo filled their fields before they were verified
    ann.refresh_from_db()
    assert ann.job_title == "Head of Brand"  # a typed field is never overwritten
    assert (ann.city, ann.phone, ann.company.name) == ("Lyon", "+33123456789", "Acme")
    assert ann.field_sources["city"] == "apollo" and ann.field_sources["job_title"] == "manual"
    assert (ann.lifecycle_status, ann.email_status) == (LifecycleStatus.VERIFIED, EmailStatus.VALID)
    assert list(LifecycleTransition.objects.filter(contact=ann).order_by("id").values_list("to_status", flat=True)) \
        == ["enriched", "verified"]
    assert Contact.objects.get(pk=nobody.pk).lifecycle_status == LifecycleStatus.VERIFIED
    dead.refresh_from_db()
    assert dead.email_status == EmailStatus.INVALID
    assert Suppression.objects.get(value="dead@acme.io").reason == "invalid"
    assert EnrichmentRecord.objects.count() == 2
    assert ProviderAccount.objects.get(name="apollo-eu").health.consecutive_failures >= 1


def test_running_a_finished_run_again_changes_nothing(httpserver, people):
    replay = providers_set_up(httpserver, apollo_down_first=False)
    run = run_all_new()
    calls = replay.apollo_calls
    again = services.enrichment_run_process(run_id=run.pk)
    assert replay.apollo_calls == calls
    assert EnrichmentRecord.objects.count() == 2
    assert (again.verified, again.status) == (4, RunStatus.COMPLETED)


def test_outage_of_every_provider_leaves_contacts_queued_and_untouched(httpserver, people, settings):
    settings.CRM_ENRICHMENT_BATCH_SIZE = 2
    ProviderAccount.objects.all().delete()
    providers_set_up(httpserver, verification=False)
    ProviderAccount.objects.filter(name="apollo").update(base_url=httpserver.url_for("/down"))

    run = run_all_new()

    assert run.status == RunStatus.QUEUED
    assert run.queued == 4 and "Waiting for a provider" in run.error
    assert not EnrichmentRecord.objects.exists()
    assert set(Contact.objects.values_list("lifecycle_status", flat=True)) == {LifecycleStatus.NEW}
    assert run.items.filter(attempts=1).count() == 2  # only the first batch was tried

    ProviderAccount.objects.filter(name="apollo").update(base_url=httpserver.url_for("/apollo"))
    ProviderAccount.objects.filter(name="apollo-eu").update(enabled=False)
    assert services.enrichment_runs_waiting() == [run.pk]
    resumed = services.enrichment_run_process(run_id=run.pk)
    assert resumed.status == RunStatus.COMPLETED
    # Without a verification provider, Apollo's own email status still counts (Ann is "verified"); Ann and Bob
    # were both found by Apollo, so both count as enriched, Ann's item "verified" as well.
    assert (resumed.enriched, resumed.verified, resumed.skipped) == (2, 1, 2)
    assert moves(run) == [("queued", "running"), ("running", "queued"), ("queued", "running"),
                          ("running", "completed")]


def test_a_contact_that_waits_out_too_many_outages_fails(httpserver, settings):
    settings.CRM_ENRICHMENT_MAX_ATTEMPTS = 1
    ContactFactory(email="ann@acme.io")
    providers_set_up(httpserver, verification=False)
    ProviderAccount.objects.filter(name="apollo").update(enabled=False)
    run = run_all_new()
    assert (run.failed, run.queued, run.status) == (1, 0, RunStatus.COMPLETED)
    assert "provider outage" in run.items.get().detail


def test_without_a_real_provider_a_run_refuses_to_start_and_says_why(people):
    ProviderAccountFactory(name="Demo: no enrichment", adapter="noop_lead_enrichment")
    ProviderAccountFactory(name="Demo: no verification", capability=Capability.EMAIL_VERIFICATION,
                           adapter="noop_email_verification")

    with pytest.raises(DomainError) as refused:
        run_all_new()

    assert refused.value.code == "no_provider"
    assert "Demo: no enrichment does nothing real" in refused.value.message
    assert "Demo: no verification does nothing real" in refused.value.message
    assert refused.value.extra["fix_url"] == "/providers/new/?capability=lead_enrichment"
    assert not EnrichmentRun.objects.exists()


def test_a_run_whose_provider_goes_away_skips_its_contacts_rather_than_failing_them(people, enrichment_account):
    run = services.enrichment_run_create(all_new=True, enqueue=False)
    ProviderAccount.objects.update(enabled=False)

    run = services.enrichment_run_process(run_id=run.pk)

    assert (run.skipped, run.status) == (4, RunStatus.COMPLETED)


def test_scope_must_be_exactly_one_and_waiting_contacts_are_not_queued_twice(people, enrichment_account):
    with pytest.raises(DomainError):
        services.enrichment_run_create(all_new=True, contact_ids=[1], enqueue=False)
    with pytest.raises(DomainError):
        services.enrichment_run_create(enqueue=False)
    first = services.enrichment_run_create(contact_ids=[people[0].pk, people[1].pk], enqueue=False)
    second = services.enrichment_run_create(all_new=True, enqueue=False)
    assert (first.total, second.total) == (2, 2)
    third = services.enrichment_run_create(contact_ids=[people[0].pk], enqueue=False)
    assert third.status == RunStatus.COMPLETED and third.total == 0
    assert moves(third) == [("queued", "completed")] and moves(first) == []


def test_segment_scope_and_cancel(people, enrichment_account):
    in_acme = {"field": "domain", "operator": "in", "value": ["acme.io"]}
    segment = SegmentFactory(rules={"op": "and", "rules": [in_acme]})
    run = services.enrichment_run_create(segment=segment, enqueue=False)
    assert run.scope["segment"] == segment.name and run.total == 4
    canceled = services.enrichment_run_cancel(run=run)
    assert (canceled.status, canceled.skipped) == (RunStatus.CANCELED, 4)
    assert EnrichmentRun.objects.get(pk=run.pk).items.filter(status=EnrichmentItemStatus.QUEUED).count() == 0
    with pytest.raises(DomainError):
        services.enrichment_run_cancel(run=run)


def test_verify_only_run_spends_no_enrichment_call(httpserver, people):
    replay = providers_set_up(httpserver, apollo_down_first=False)
    run = services.enrichment_run_create(all_new=True, verify_only=True, enqueue=False)
    run = services.enrichment_run_process(run_id=run.pk)
    assert replay.apollo_calls == 0
    assert (run.verified, run.enriched) == (4, 0)
    assert not EnrichmentRecord.objects.exists()
