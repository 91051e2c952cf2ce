"""The heat map page of the best time to post."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from aicmo_site.roles import ANALYST
from publishing.tests.factories import ChannelFactory
from publishing.tests.test_best_times import _history

pytestmark = pytest.mark.django_db


@pytest.fixture
def analyst_client(client, make_user):
    client.force_login(make_user("analyst", role=ANALYST))
    cache.clear()
    yield client
    cache.clear()


def test_heat_map_shows_the_peak_darkest_with_words_for_each_cell(analyst_client, django_assert_num_queries):
    ChannelFactory(name="Another channel")
    ours = ChannelFactory(name="Mastodon")
    _history(ours, peak=(1, 10), weeks=2)
    # Session, user, the channels, one aggregate however long the history, the menu's permissions (two).
    with django_assert_num_queries(6):
        page = analyst_client.get(reverse("analytics:best-times"), {"channel": ours.pk})
    text = page.content.decode()
    assert "from 10 published posts: <strong>low confidence</strong>" in text
    tuesday = text[text.index('<th scope="row">Tue</th>') :].split("</tr>")[0]
    cells = tuesday.split("<td ")[1:]
    assert 'class="heat-4"' in cells[10] and "2 posts, low confidence" in cells[10]
    assert 'class="heat-4"' not in "".join(cells[:10] + cells[11:])


def test_heat_map_without_history_or_with_a_wrong_channel(analyst_client):
    page = analyst_client.get(reverse("analytics:best-times"))
    assert "No channel yet" in page.content.decode()
    channel = ChannelFactory(name="Slack")
    page = analyst_client.get(reverse("analytics:best-times"))
    assert "No published post on this channel has metrics yet" in page.content.decode()
    assert (
        "That channel does not exist."
        in analyst_client.get(reverse("analytics:best-times"), {"channel": channel.pk + 100}).content.decode()
    )
