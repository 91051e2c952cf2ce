"""The pipeline end to end: a real qcluster works the run, through the real gateways chain, against
Apollo and Dropcontact replayed on loopback, with the first Apollo account down."""

import pytest

from aicmo_site.testing.worker import wait_for
from crm import services
from crm.choices import LifecycleStatus, RunStatus
from crm.models import Contact, EnrichmentRun
from crm.tests.factories import ContactFactory
from crm.tests.providers import providers_set_up


@pytest.mark.worker
def test_worker_enriches_a_run_with_one_provider_down(qcluster, httpserver):
    ann = ContactFactory(email="ann@acme.io")
    ContactFactory(email="dead@acme.io")
    providers_set_up(httpserver)
    cluster = qcluster()

    run = services.enrichment_run_create(all_new=True)

    def finished():
        return EnrichmentRun.objects.filter(pk=run.pk, status=RunStatus.COMPLETED).first()

    done = wait_for(finished, timeout=60, message=f"the run to complete; worker said:\n{cluster.output()[-2000:]}")
    assert (done.total, done.verified, done.failed) == (2, 2, 0)
    assert Contact.objects.get(pk=ann.pk).lifecycle_status == LifecycleStatus.VERIFIED
    assert Contact.objects.get(email="dead@acme.io").email_status == "invalid"
