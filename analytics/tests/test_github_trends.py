"""GitHub in the analytics: a watched repository's daily figures, and releases (from the webhook or the
scheduled read) marked on its chart and on the marketing trend."""

import datetime as dt
import json

import pytest
from django.utils import timezone

from crm.models import RepositoryRelease, RepositorySnapshot
from crm.services import repository_watch

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 11, 20)


@pytest.fixture
def analyst_client(client, make_user):
    client.force_login(make_user("ana", role="Analyst"))
    return client


@pytest.fixture
def repository():
    repository = repository_watch(full_name="octocat/Hello-World")
    for n, stars in enumerate((70, 75, 90)):
        RepositorySnapshot.objects.create(repository=repository, day=DAY + dt.timedelta(days=n), stars=stars,
                                          forks=9, watchers=4, open_issues=2, releases=1 + (n == 2), views=None,
                                          clones=None, traffic_available=False)
    return repository


def release(tag: str, day: dt.date, name: str = "octocat/Hello-World", source: str = "webhook"):
    at = dt.datetime.combine(day, dt.time(12), tzinfo=timezone.get_current_timezone())
    return RepositoryRelease.objects.create(repository_name=name, tag=tag, published_at=at, source=source)


def chart_of(html: str, script_id: str) -> dict:
    start = html.index(f'id="{script_id}"')
    return json.loads(html[html.index(">", start) + 1:html.index("</script>", start)])


def test_the_github_page_charts_a_figure_with_its_releases_marked(analyst_client, repository):
    release("v2.0", DAY + dt.timedelta(days=2))
    release("v9", DAY + dt.timedelta(days=2), name="someone/else")

    response = analyst_client.get(f"/analytics/github/?repository={repository.pk}&metric=stars"
                                  f"&start={DAY}&end={DAY + dt.timedelta(days=3)}")

    html = response.content.decode()
    assert response.status_code == 200 and 'id="github-table"' in html and "format=csv" in html
    chart = chart_of(html, "github-chart")
    assert chart["series"][0]["values"] == [70.0, 75.0, 90.0, None]
    assert chart["series"][1] == {"label": "Release", "markers": True, "values": [None, None, 90.0, None]}
    assert "octocat/Hello-World v2.0" in html and "someone/else" not in html
    assert "not read" in html


def test_traffic_the_token_may_not_read_says_so(analyst_client, repository):
    html = analyst_client.get(f"/analytics/github/?repository={repository.pk}&metric=views"
                              f"&start={DAY}&end={DAY}").content.decode()
    assert "not available with this token" in html


def test_without_repositories_the_page_says_how_to_add_one(analyst_client):
    html = analyst_client.get("/analytics/github/").content.decode()
    assert "No GitHub repository is watched yet" in html and 'role="alert"' not in html


def test_the_api_and_csv_give_the_same_figures(analyst_client, repository):
    release("v2.0", DAY + dt.timedelta(days=1), source="poll")
    url = f"/api/analytics/github/?repository={repository.pk}&metric=stars&start={DAY}&end={DAY + dt.timedelta(days=1)}"

    data = analyst_client.get(url).json()
    csv = analyst_client.get(url + "&format=csv").content.decode().splitlines()

    assert [(p["value"], p["releases"]) for p in data["points"]] == [(70, []), (75, ["octocat/Hello-World v2.0"])]
    assert csv[0] == "day,stars,releases" and csv[2].endswith("75,octocat/Hello-World v2.0")
    assert analyst_client.get("/api/analytics/github/?repository=999999").status_code == 400


def test_releases_are_marked_on_the_marketing_trend(analyst_client):
    release("v2.0", DAY + dt.timedelta(days=1))

    html = analyst_client.get(f"/analytics/trends/?metric=clicks&start={DAY}&end={DAY + dt.timedelta(days=2)}"
                              ).content.decode()
    weekly = analyst_client.get(f"/api/analytics/trends/?metric=clicks&interval=week&start={DAY}"
                                f"&end={DAY + dt.timedelta(days=6)}").json()

    chart = chart_of(html, "trend-chart")
    assert chart["series"][-1] == {"label": "Release", "markers": True, "values": [None, 0.0, None]}
    assert "octocat/Hello-World v2.0" in html
    monday = DAY - dt.timedelta(days=DAY.weekday())
    assert {p["period"]: p["releases"] for p in weekly["points"]}[monday.isoformat()] == ["octocat/Hello-World v2.0"]
