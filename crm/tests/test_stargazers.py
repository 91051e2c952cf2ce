"""Stargazers matched to contacts by public email, against GitHub replayed (crm/tests/github_replay.py)."""

import json
import time

import pytest
from django.core.management import CommandError, call_command
from werkzeug import Response

from aicmo_site.models import BackgroundRun, RunKind, RunStatus
from crm.choices import EventKind
from crm.models import EngagementEvent, GitHubUser
from crm.privacy import contact_erase
from crm.services import repository_watch
from crm.services.github import github_delivery_apply
from crm.services.stargazers import stargazers_backfill_run
from crm.tasks import stargazers_backfill_task
from crm.tests.factories import ContactFactory
from crm.tests.github_replay import StargazersReplay, github_account

pytestmark = pytest.mark.django_db
EMAILS = {"octocat": "Octo@Acme.io", "hubot": None, "monalisa": "mona@elsewhere.org", "defunkt": "dev@acme.io"}


@pytest.fixture
def repository(httpserver):
    github_account(httpserver)
    return repository_watch(full_name="octocat/Hello-World")


def test_stargazers_are_paged_and_matched_by_public_email_once(httpserver, repository):
    replay = StargazersReplay(httpserver, EMAILS)
    octo, dev = ContactFactory(email="octo@acme.io"), ContactFactory(email="dev@acme.io")

    run = stargazers_backfill_run(repository=repository)

    assert run.status == RunStatus.COMPLETED, run.error
    assert run.result == {"pages": 2, "stargazers": 4, "looked_up": 4, "public_emails": 3, "contacts_matched": 2,
                          "stars_recorded": 2}
    stars = EngagementEvent.objects.filter(kind=EventKind.STARRED)
    assert sorted(stars.values_list("contact__email", flat=True)) == ["dev@acme.io", "octo@acme.io"]
    assert stars.get(contact=octo).detail == {"repository": "octocat/Hello-World", "login": "octocat"}
    assert GitHubUser.objects.get(login="hubot").email == "" and GitHubUser.objects.get(login="defunkt").contact == dev

    again = stargazers_backfill_run(repository=repository)

    assert again.result["looked_up"] == 0 and again.result["stars_recorded"] == 0
    assert sorted(replay.user_reads) == sorted(EMAILS), "each user is looked up once ever"
    assert stars.count() == 2


def test_a_used_up_quota_stops_the_run_with_when_to_retry_and_keeps_the_users(httpserver, repository):
    replay = StargazersReplay(httpserver, EMAILS)
    stargazers_backfill_run(repository=repository)  # all four known now
    GitHubUser.objects.filter(login="monalisa").delete()
    replay.refusal = Response(json.dumps({"message": "API rate limit exceeded"}), status=403,
                              content_type="application/json",
                              headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(time.time()) + 3000)})

    run = stargazers_backfill_run(repository=repository)

    assert run.status == RunStatus.FAILED and "run it again after" in run.error
    assert run.result["stargazers"] >= 1 and GitHubUser.objects.count() == 3

    asked = len(httpserver.log)
    early = stargazers_backfill_run(repository=repository)
    assert early.status == RunStatus.FAILED and "run it again after" in early.error
    assert len(httpserver.log) == asked, "before the reset the account is not asked again"


def test_the_command_reports_the_counts_and_refuses_an_unwatched_repository(httpserver, repository, capsys):
    StargazersReplay(httpserver, EMAILS)
    ContactFactory(email="dev@acme.io")

    call_command("github_stargazers_backfill", "octocat/hello-world")

    assert "4 stargazers on 2 pages" in capsys.readouterr().out
    with pytest.raises(CommandError, match="not a watched repository"):
        call_command("github_stargazers_backfill", "someone/else")


def test_the_button_queues_a_run_that_the_worker_task_completes(httpserver, repository, api_as,
                                                                django_capture_on_commit_callbacks):
    StargazersReplay(httpserver, EMAILS)
    admin = api_as("Admin")

    with django_capture_on_commit_callbacks() as queued:
        response = admin.post(f"/api/github-repositories/{repository.pk}/backfill-stargazers/")

    assert response.status_code == 202 and len(queued) == 1
    run = BackgroundRun.objects.get(pk=response.data["id"])
    assert run.kind == RunKind.STARGAZER_BACKFILL and run.status == RunStatus.QUEUED
    stargazers_backfill_task(run.pk, repository.pk)
    stargazers_backfill_task(run.pk, repository.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED and run.result["stargazers"] == 4
    assert api_as("Marketer", "m").post(f"/api/github-repositories/{repository.pk}/backfill-stargazers/"
                                        ).status_code == 403


def test_a_webhook_star_and_the_backfill_count_once_and_a_known_login_is_matched(httpserver, repository):
    StargazersReplay(httpserver, EMAILS)
    dev, mona = ContactFactory(email="dev@acme.io"), ContactFactory(email="mona@elsewhere.org")
    assert github_delivery_apply(delivery_id="d-1", event="star", payload={
        "action": "created", "repository": {"full_name": "octocat/Hello-World"},
        "sender": {"login": "monalisa", "email": "mona@elsewhere.org"}})
    stargazers_backfill_run(repository=repository)
    assert EngagementEvent.objects.filter(contact=mona, kind=EventKind.STARRED).count() == 1
    star = {"action": "created", "repository": {"full_name": "octocat/Spoon-Knife"},
            "sender": {"login": "defunkt", "id": 2}}

    assert github_delivery_apply(delivery_id="d-9", event="star", payload=star)
    stargazers_backfill_run(repository=repository)

    assert sorted(EngagementEvent.objects.filter(contact=dev, kind=EventKind.STARRED)
                  .values_list("detail__repository", flat=True)) == ["octocat/Hello-World", "octocat/Spoon-Knife"]


def test_erasing_a_contact_forgets_the_github_address_and_the_backfill_does_not_rematch(httpserver, repository):
    replay = StargazersReplay(httpserver, EMAILS)
    dev = ContactFactory(email="dev@acme.io")
    stargazers_backfill_run(repository=repository)

    contact_erase(contact=dev, by=None, confirm="dev@acme.io")
    again = stargazers_backfill_run(repository=repository)

    forgotten = GitHubUser.objects.get(login="defunkt")
    assert forgotten.email == "" and forgotten.contact is None
    assert again.result["stars_recorded"] == 0 and replay.user_reads.count("defunkt") == 1
    assert not GitHubUser.objects.filter(email__iexact="dev@acme.io").exists()
