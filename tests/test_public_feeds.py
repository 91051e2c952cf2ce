import pytest

from publishing import dispatcher
from publishing.tests.factories import ChannelFactory, JobFactory, approve

pytestmark = pytest.mark.django_db


def test_website_channel_feeds_are_at_the_short_public_addresses(client, settings):
    # Posting threads cannot see this test's uncommitted rows: post from the test's own thread.
    settings.PUBLISHING_DISPATCH_THREADS = 1
    job = JobFactory(channel=ChannelFactory(kind="website", slug="news", name="News"), version__kind="website",
                     version__title="Launch day", version__body="We shipped.")
    approve(job.content)
    dispatcher.dispatch_once()
    job.refresh_from_db()
    assert job.status == "published", (job.status, job.error_message)

    rss = client.get("/feeds/news.rss")
    atom = client.get("/feeds/news.atom")

    assert rss.status_code == 200 and b"<title>Launch day</title>" in rss.content
    assert atom.status_code == 200 and b"Launch day" in atom.content
    assert client.get("/feeds/unknown.rss").status_code == 404
