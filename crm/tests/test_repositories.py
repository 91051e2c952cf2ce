"""Watched GitHub repositories read into daily snapshots through the real gateways chain, against a
contract server replaying GitHub (crm/tests/github_replay.py)."""

import json
import time
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.utils import timezone
from werkzeug import Response

from aicmo_site.errors import DomainError
from crm.models import RepositoryRelease, RepositorySnapshot, WatchedRepository
from crm.services import repositories_poll, repository_poll, repository_watch
from crm.services.github import github_delivery_apply
from crm.services.repositories import NO_TRAFFIC, PollStatus
from crm.tasks import repositories_poll_task
from crm.tests.github_replay import GitHubReplay

pytestmark = pytest.mark.django_db


def test_a_first_read_stores_the_days_figures_releases_and_traffic(replay):
    repository = repository_watch(full_name="https://github.com/octocat/Hello-World/")

    result = repository_poll(repository_id=repository.pk)

    assert result.status == PollStatus.READ
    snapshot = RepositorySnapshot.objects.get(repository=repository)
    assert (snapshot.day, snapshot.stars, snapshot.forks, snapshot.watchers, snapshot.open_issues,
            snapshot.releases, snapshot.views, snapshot.clones, snapshot.traffic_available) == (
        timezone.localdate(), 80, 9, 42, 3, 1, 14850, 173, True)
    assert list(RepositoryRelease.objects.values_list("repository_name", "tag", "source")) == [
        ("octocat/Hello-World", "v1.0", "poll")]
    repository.refresh_from_db()
    assert repository.figures_etag.startswith('W/"') and repository.releases_etag and not repository.last_error


def test_an_unchanged_repository_answers_304_and_changes_nothing(replay):
    repository = repository_watch(full_name="octocat/Hello-World")
    repository_poll(repository_id=repository.pk)
    before = RepositorySnapshot.objects.values().get()
    replay.answers.clear()

    result = repository_poll(repository_id=repository.pk)

    assert result.status == PollStatus.UNCHANGED
    assert ("/repos/octocat/Hello-World", 304) in replay.answers
    assert ("/repos/octocat/Hello-World/releases", 304) in replay.answers
    after = RepositorySnapshot.objects.values().get()
    assert {k: v for k, v in after.items() if k != "updated_at"} == {
        k: v for k, v in before.items() if k != "updated_at"}
    assert RepositoryRelease.objects.count() == 1


def test_a_change_is_read_again_into_the_same_days_snapshot(replay):
    repository = repository_watch(full_name="octocat/Hello-World")
    repository_poll(repository_id=repository.pk)
    replay.stars = 81
    replay.releases.insert(0, ("v1.1", "2026-12-01T10:00:00Z"))

    assert repository_poll(repository_id=repository.pk).status == PollStatus.READ

    snapshot = RepositorySnapshot.objects.get()
    assert (snapshot.stars, snapshot.releases) == (81, 2)
    assert sorted(RepositoryRelease.objects.values_list("tag", flat=True)) == ["v1.0", "v1.1"]


def test_traffic_the_token_may_not_read_is_recorded_as_not_available(httpserver, account):
    GitHubReplay(httpserver, push_access=False)
    repository = repository_watch(full_name="octocat/Hello-World")

    result = repository_poll(repository_id=repository.pk)

    assert result.status == PollStatus.READ and result.detail == f"traffic {NO_TRAFFIC}"
    snapshot = RepositorySnapshot.objects.get()
    assert (snapshot.stars, snapshot.views, snapshot.clones, snapshot.traffic_available) == (80, None, None, False)
    repository.refresh_from_db()
    assert repository.last_error == ""


def test_a_used_up_quota_waits_for_the_reset_and_skips_the_rest(httpserver, replay):
    GitHubReplay(httpserver, "octocat/Spoon-Knife")
    repository_watch(full_name="octocat/Hello-World")
    repository_watch(full_name="octocat/Spoon-Knife")
    reset = int(time.time()) + 3600
    replay.refusal = Response(json.dumps({"message": "API rate limit exceeded for user ID 1."}), status=403,
                              headers={"x-ratelimit-remaining": "0", "x-ratelimit-limit": "5000",
                                       "x-ratelimit-reset": str(reset)}, content_type="application/json")

    results = repositories_poll()

    assert [(r.repository, r.status) for r in results] == [
        ("octocat/Hello-World", PollStatus.WAITING), ("octocat/Spoon-Knife", PollStatus.WAITING)]
    waiting = WatchedRepository.objects.get(full_name="octocat/Hello-World")
    assert abs(waiting.not_before.timestamp() - reset) < 5 and "rate limit" in waiting.last_error
    assert not RepositorySnapshot.objects.exists()
    asked = len(httpserver.log)

    assert repositories_poll()[0].status == PollStatus.WAITING
    assert len(httpserver.log) == asked, "a repository waiting for the reset makes no request"


def test_a_secondary_limit_is_waited_out_within_the_run(replay):
    repository = repository_watch(full_name="octocat/Hello-World")
    replay.refusal = Response(json.dumps({"message": "You have exceeded a secondary rate limit."}), status=429,
                              headers={"retry-after": "1"}, content_type="application/json")

    result = repository_poll(repository_id=repository.pk)

    assert result.status == PollStatus.READ
    assert replay.answers[:2] == [("/repos/octocat/Hello-World", 429), ("/repos/octocat/Hello-World", 200)]
    assert RepositorySnapshot.objects.get().stars == 80


def test_a_server_error_is_recorded_and_keeps_the_last_snapshot(httpserver, replay):
    repository = repository_watch(full_name="octocat/Hello-World")
    repository_poll(repository_id=repository.pk)
    replay.refusal = Response("upstream error", status=502)

    result = repository_poll(repository_id=repository.pk)

    assert result.status == PollStatus.FAILED and "502" in result.detail
    repository.refresh_from_db()
    assert "502" in repository.last_error and RepositorySnapshot.objects.get().stars == 80


def test_without_a_github_account_nothing_is_read():
    repository = repository_watch(full_name="octocat/Hello-World")

    result = repository_poll(repository_id=repository.pk)

    assert result.status == PollStatus.NO_ACCOUNT and "Provider accounts" in result.detail


@pytest.mark.parametrize("name", ["octocat", "octocat/Hello World", "../etc/passwd", "a/b/c"])
def test_a_repository_must_be_owner_slash_name(name):
    with pytest.raises(ValidationError):
        repository_watch(full_name=name)


def test_a_repository_is_watched_once():
    repository_watch(full_name="octocat/Hello-World")
    with pytest.raises(DomainError, match="watched already"):
        repository_watch(full_name="OctoCat/hello-world")


def test_a_published_release_from_the_webhook_is_marked_once():
    payload = {"action": "published", "repository": {"full_name": "aicmo/aicmo"},
               "release": {"tag_name": "v2.0", "name": "Two", "html_url": "https://github.com/aicmo/aicmo/releases/v2.0",
                           "published_at": "2026-12-05T08:00:00Z"}}

    assert github_delivery_apply(delivery_id="d-1", event="release", payload=payload)
    assert github_delivery_apply(delivery_id="d-2", event="release", payload={**payload, "action": "released"})

    release = RepositoryRelease.objects.get()
    assert (release.repository_name, release.tag, release.source, release.published_at.isoformat()) == (
        "aicmo/aicmo", "v2.0", "webhook", "2026-12-05T08:00:00+00:00")


def test_the_command_reads_every_repository_and_fails_on_a_failure(replay):
    repository_watch(full_name="octocat/Hello-World")
    out = StringIO()
    call_command("github_repositories_poll", stdout=out)
    assert out.getvalue() == "octocat/Hello-World: read\n"

    replay.refusal = Response("upstream error", status=502)
    with pytest.raises(CommandError, match="could not be read"):
        call_command("github_repositories_poll", stdout=StringIO())


def test_the_scheduled_task_counts_the_outcomes(replay):
    repository_watch(full_name="octocat/Hello-World")
    assert repositories_poll_task() == {"read": 1}
    assert repositories_poll_task() == {"unchanged": 1}
