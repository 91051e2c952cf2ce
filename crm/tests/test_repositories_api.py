"""The watched-repositories API: Admins add and remove, other roles read; one query per page."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.models import RepositorySnapshot, WatchedRepository
from crm.services import repository_watch

pytestmark = pytest.mark.django_db
URL = "/api/github-repositories/"


def snapshot(repository, day, stars):
    return RepositorySnapshot.objects.create(repository=repository, day=day, stars=stars, forks=1, watchers=2,
                                             open_issues=3, releases=4, views=None, clones=None,
                                             traffic_available=False)


def test_an_admin_adds_and_removes_a_repository(api_as):
    admin = api_as("Admin")

    created = admin.post(URL, {"full_name": "octocat/Hello-World"})
    assert created.status_code == 201, created.data
    assert created.data["full_name"] == "octocat/Hello-World" and created.data["latest"] is None

    refused = admin.post(URL, {"full_name": "not a repository"})
    assert refused.status_code == 400 and "full_name" in str(refused.data)

    assert admin.delete(f"{URL}{created.data['id']}/").status_code == 204
    assert not WatchedRepository.objects.exists()


def test_a_marketer_reads_but_may_not_add(api_as):
    marketer = api_as("Marketer")
    repository_watch(full_name="octocat/Hello-World")

    assert marketer.post(URL, {"full_name": "octocat/Spoon-Knife"}).status_code == 403
    assert marketer.get(URL).data["count"] == 1


def test_the_list_shows_the_latest_day_in_a_fixed_number_of_queries(api_as):
    admin = api_as("Admin")
    today = timezone.localdate()

    def queries() -> int:
        admin.get(URL)
        with CaptureQueriesContext(connection) as captured:
            response = admin.get(URL)
        assert response.status_code == 200
        return len(captured)

    first = repository_watch(full_name="octocat/Hello-World")
    snapshot(first, today - timezone.timedelta(days=1), 70)
    snapshot(first, today, 80)
    few = queries()
    for n in range(5):
        snapshot(repository_watch(full_name=f"octocat/repo-{n}"), today, n)
    assert queries() == few

    rows = {r["full_name"]: r for r in admin.get(URL).data["results"]}
    assert rows["octocat/Hello-World"]["latest"]["stars"] == 80
    assert rows["octocat/Hello-World"]["latest"]["traffic_available"] is False


def test_the_snapshots_come_newest_first(api_as):
    repository = repository_watch(full_name="octocat/Hello-World")
    today = timezone.localdate()
    snapshot(repository, today - timezone.timedelta(days=1), 70)
    snapshot(repository, today, 80)

    data = api_as("Analyst").get(f"{URL}{repository.pk}/snapshots/").data

    assert [row["stars"] for row in data["results"]] == [80, 70]


def test_an_admin_adds_a_repository_in_the_django_admin_once(client, make_user):
    client.force_login(make_user("boss", is_staff=True, is_superuser=True))

    inline = {"snapshots-TOTAL_FORMS": "0", "snapshots-INITIAL_FORMS": "0"}
    added = client.post("/admin/crm/watchedrepository/add/", {"full_name": "octocat/Hello-World", **inline},
                        follow=True)
    assert added.status_code == 200 and WatchedRepository.objects.get().added_by.username == "boss"

    again = client.post("/admin/crm/watchedrepository/add/", {"full_name": "OCTOCAT/hello-world", **inline})
    assert again.status_code == 200 and b"watched already" in again.content
    assert client.get(f"/admin/crm/watchedrepository/{WatchedRepository.objects.get().pk}/change/").status_code == 200
    assert client.get("/admin/crm/repositoryrelease/").status_code == 200
