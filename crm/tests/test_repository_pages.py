"""The back-office page of watched GitHub repositories, read through the real gateways chain against the
contract server replaying GitHub (crm/tests/github_replay.py): figures, rate-limit state, add with a token
account, remove with confirmation, poll now; changes are an Admin's."""

import json
import time

import pytest
from django_q.models import OrmQ
from werkzeug import Response

from crm.models import RepositorySnapshot, WatchedRepository
from crm.services import repositories_poll, repository_poll, repository_watch
from crm.services.repositories import PollStatus
from crm.tasks import repository_poll_task
from crm.tests.github_replay import TOKEN, GitHubReplay
from gateways.capabilities import Capability
from gateways.services import account_create

pytestmark = pytest.mark.django_db
PAGE = "/contacts/repositories/"


@pytest.fixture
def admin(client, make_user):
    client.force_login(make_user("ada", role="Admin"))
    return client


def rate_limited(replay, reset: int):
    replay.refusal = Response(json.dumps({"message": "API rate limit exceeded for user ID 1."}), status=403,
                              headers={"x-ratelimit-remaining": "0", "x-ratelimit-limit": "5000",
                                       "x-ratelimit-reset": str(reset)}, content_type="application/json")


def row(html: str, full_name: str) -> str:
    start = html.index(f'data-repository="{full_name}"')
    return html[start:html.index("</tr>", start)]


def queued_polls() -> list:
    return [task for task in OrmQ.objects.all() if task.task["func"] == "crm.tasks.repository_poll_task"]


def test_the_list_shows_last_read_figures_and_the_rate_limit_state(httpserver, replay, admin):
    GitHubReplay(httpserver, "octocat/Spoon-Knife")
    read = repository_watch(full_name="octocat/Hello-World")
    assert repository_poll(repository_id=read.pk).status == PollStatus.READ
    waiting = repository_watch(full_name="octocat/Spoon-Knife")
    repository_watch(full_name="octocat/linguist")

    html = admin.get(PAGE).content.decode()

    hello = row(html, "octocat/Hello-World")
    assert "<td>80</td><td>9</td>" in hello and "within the limit" in hello and "first enabled" in hello
    assert "not read yet" in row(html, "octocat/linguist") and "unknown until the first read" in row(
        html, "octocat/linguist")
    WatchedRepository.objects.filter(pk=waiting.pk).update(not_before="2999-01-01T10:15:00Z",
                                                           last_error="GitHub's rate limit")
    assert "waiting until" in row(admin.get(PAGE).content.decode(), "octocat/Spoon-Knife")


def test_a_used_up_quota_shows_as_waiting_until_githubs_reset(httpserver, replay, admin):
    repository = repository_watch(full_name="octocat/Hello-World")
    rate_limited(replay, int(time.time()) + 3600)
    assert repository_poll(repository_id=repository.pk).status == PollStatus.WAITING

    hello = row(admin.get(PAGE).content.decode(), "octocat/Hello-World")
    assert "waiting until" in hello and "<td>—</td><td>—</td>" in hello


def test_the_list_costs_the_same_queries_for_one_repository_or_many(httpserver, replay, admin,
                                                                    django_assert_num_queries):
    repository_poll(repository_id=repository_watch(full_name="octocat/Hello-World").pk)
    admin.get(PAGE)
    with django_assert_num_queries(9) as one:
        admin.get(PAGE)
    for name, stars in (("octocat/Spoon-Knife", 200), ("octocat/linguist", 5)):
        GitHubReplay(httpserver, name).stars = stars
        repository_poll(repository_id=repository_watch(full_name=name).pk)
    repository_watch(full_name="django/django")
    with django_assert_num_queries(len(one.captured_queries)):
        html = admin.get(PAGE + "?ordering=-latest_stars").content.decode()
    order = ["octocat/Spoon-Knife", "octocat/Hello-World", "octocat/linguist", "django/django"]
    assert sorted(order, key=lambda name: html.index(f'data-repository="{name}"')) == order, \
        "most stars first; never read last"


def test_an_admin_adds_a_repository_with_its_token_account_and_it_is_read_at_once(
        replay, account, admin, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(PAGE, {"full_name": "https://github.com/octocat/Hello-World/", "account": account.pk})
    assert response.status_code == 302
    repository = WatchedRepository.objects.get()
    assert (repository.full_name, repository.account_id) == ("octocat/Hello-World", account.pk)
    [task] = queued_polls()
    assert task.task["args"] == (repository.pk,)

    assert repository_poll_task(*task.task["args"])["status"] == PollStatus.READ
    assert "<td>80</td><td>9</td>" in row(admin.get(PAGE).content.decode(), "octocat/Hello-World")


def test_bad_and_repeated_names_are_form_errors(replay, admin):
    repository_watch(full_name="octocat/Hello-World")
    bad = admin.post(PAGE, {"full_name": "octocat/Hello World; rm"}).content.decode()
    assert "Write the repository as owner/name, e.g. octocat/Hello-World." in bad
    again = admin.post(PAGE, {"full_name": "OctoCat/hello-world"}).content.decode()
    assert "OctoCat/hello-world is watched already." in again
    assert WatchedRepository.objects.count() == 1


def test_poll_now_queues_a_read_of_that_repository(replay, admin, django_capture_on_commit_callbacks):
    repository = repository_watch(full_name="octocat/Hello-World")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(f"{PAGE}{repository.pk}/poll/", follow=True)
    assert "is being read now" in response.content.decode()
    [task] = queued_polls()
    repository_poll_task(*task.task["args"])
    assert RepositorySnapshot.objects.get(repository=repository).stars == 80


def test_removing_asks_first_then_stops_watching(replay, admin):
    repository = repository_watch(full_name="octocat/Hello-World")
    repository_poll(repository_id=repository.pk)
    html = admin.get(PAGE).content.decode()
    assert f'href="{PAGE}{repository.pk}/remove/"' in html

    ask = admin.get(f"{PAGE}{repository.pk}/remove/").content.decode()
    assert "Stop watching octocat/Hello-World?" in ask and "Its 1 day of figures go with it" in ask
    assert WatchedRepository.objects.exists()

    admin.post(f"{PAGE}{repository.pk}/remove/")
    assert not WatchedRepository.objects.exists()


def test_a_marketer_reads_the_list_but_may_not_change_it(replay, client, make_user):
    client.force_login(make_user("mia", role="Marketer"))
    repository = repository_watch(full_name="octocat/Hello-World")
    html = client.get(PAGE).content.decode()
    assert "octocat/Hello-World" in html and "Watch a repository" not in html and "Poll now" not in html
    assert 'href="/contacts/repositories/"' in html, "in the navigation"

    assert client.post(PAGE, {"full_name": "octocat/Spoon-Knife"}).status_code == 403
    assert client.post(f"{PAGE}{repository.pk}/poll/").status_code == 403
    assert client.get(f"{PAGE}{repository.pk}/remove/").status_code == 403
    assert WatchedRepository.objects.count() == 1 and not queued_polls()


def test_a_token_that_must_wait_skips_only_its_own_repositories(httpserver, replay, account):
    """Each repository is read with its own token account: one token's used-up quota holds back the
    repositories it reads, not those of another token."""
    GitHubReplay(httpserver, "octocat/Spoon-Knife")
    second = account_create(capability=Capability.REPOSITORY_SIGNALS, adapter="github", name="github (second)",
                            base_url=httpserver.url_for("/"), timeout_seconds=2.0, credentials={"token": TOKEN})
    repository_watch(full_name="octocat/Hello-World")
    repository_watch(full_name="octocat/Spoon-Knife", account=second)
    rate_limited(replay, int(time.time()) + 3600)

    assert [(r.repository, r.status) for r in repositories_poll()] == [
        ("octocat/Hello-World", PollStatus.WAITING), ("octocat/Spoon-Knife", PollStatus.READ)]
