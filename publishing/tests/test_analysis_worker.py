"""The Analyse button's work done by a real django-q2 worker."""

import pytest

from aicmo_site.testing.worker import wait_for
from publishing.models import AnalysisEngine, AnalysisStatus, ContentAnalysis
from publishing.services import analysis
from publishing.tests.factories import ChannelVersionFactory, ContentFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_worker_runs_the_queued_analysis_once(qcluster):
    content = ContentFactory()
    ChannelVersionFactory(content=content, kind="mastodon", body="Imports are twice as fast now.")
    analysis.content_analysis_request(content=content)  # enqueued when it commits
    cluster = qcluster()
    try:
        wait_for(lambda: ContentAnalysis.objects.filter(status=AnalysisStatus.DONE).count() == 2, timeout=60,
                 message="both analyses done")
    finally:
        cluster.kill()
    rows = ContentAnalysis.objects.all()
    assert {(row.engine, row.finished_at is not None) for row in rows} == {(AnalysisEngine.LOCAL, True)}
    assert analysis.content_analysis_run(content_id=content.pk) == 0
