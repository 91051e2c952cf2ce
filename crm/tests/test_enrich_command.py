import pytest
from django.core.management import CommandError, call_command

from crm.choices import RunStatus
from crm.models import Contact, EnrichmentRun
from crm.tests.factories import ContactFactory, SegmentFactory
from crm.tests.providers import providers_set_up

pytestmark = pytest.mark.django_db


def test_unknown_segment_is_a_clear_error():
    SegmentFactory(name="Warm leads")
    with pytest.raises(CommandError, match="No segment is named 'Cold'. Segments: Warm leads"):
        call_command("enrich_contacts", "--segment", "Cold")


def test_a_scope_is_required():
    with pytest.raises(CommandError):
        call_command("enrich_contacts")


def test_all_new_with_wait_works_the_run_here(httpserver, capsys):
    ContactFactory(email="ann@acme.io")
    ContactFactory(email="nobody@acme.io")
    providers_set_up(httpserver)
    call_command("enrich_contacts", "--all-new", "--wait")
    run = EnrichmentRun.objects.get()
    assert run.status == RunStatus.COMPLETED
    # Apollo knows Ann: her fields are filled, then Dropcontact verifies both addresses. She is counted as
    # enriched although her item ends "verified" (it used to print "0 enriched").
    assert Contact.objects.get(email="ann@acme.io").job_title == "VP Marketing"
    assert "2 contacts, 1 enriched, 2 verified, 0 failed" in capsys.readouterr().out
    assert (run.enriched, run.verified) == (1, 2)


def test_segment_without_wait_only_queues(django_capture_on_commit_callbacks, capsys, enrichment_account):
    ContactFactory(email="ann@acme.io")
    SegmentFactory(name="Acme", rules={"op": "and", "rules": [{"field": "domain", "operator": "in",
                                                                "value": ["acme.io"]}]})
    with django_capture_on_commit_callbacks() as callbacks:
        call_command("enrich_contacts", "--segment", "Acme")
    assert len(callbacks) == 1
    assert EnrichmentRun.objects.get().status == RunStatus.QUEUED
    assert "queued 1 contacts" in capsys.readouterr().out


def test_unknown_email_is_refused():
    with pytest.raises(CommandError, match="ghost@acme.io"):
        call_command("enrich_contacts", "--email", "ghost@acme.io")
