"""The link check asked for at submission, done by a real django-q2 worker."""

import pytest

from aicmo_site.testing.worker import wait_for
from publishing.tests.factories import ContentFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_worker_checks_the_links_of_submitted_content(qcluster, httpserver, make_user):
    from publishing.models import LinkReport
    from publishing.services import content_submit

    httpserver.expect_request("/ok").respond_with_data("", status=200)
    author = make_user("writer", role="Marketer")
    content = ContentFactory(author=author, link_url=httpserver.url_for("/ok"), body="No other links.")
    content_submit(content=content, by=author)  # the check is enqueued when this commits
    cluster = qcluster()
    try:
        wait_for(
            lambda: LinkReport.objects.filter(status=LinkReport.Status.DONE).exists(),
            timeout=60,
            message=f"the link check\n{cluster.output()}",
        )
    finally:
        cluster.kill()
    report = LinkReport.objects.get(content=content)
    assert [(item["url"], item["ok"], item["status"]) for item in report.results] == [
        (httpserver.url_for("/ok"), True, 200)
    ]
