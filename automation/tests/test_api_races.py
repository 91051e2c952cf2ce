"""Two people acting on one journey at the same moment, for real: two threads, each with its own
database connection, calling the API together. One wins, the other gets a 409, and nothing is lost or
done twice (one audited move, one send per email step, no version's steps missing). On PostgreSQL the
services' row locks decide the race; SQLite takes one writer at a time for the whole database."""

import threading

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connections

from aicmo_site.models import StatusChange
from aicmo_site.roles import MARKETER
from automation.models import Journey, JourneyStep
from publishing.email.models import EmailCampaign
from publishing.tests.email.factories import EmailTemplateFactory, smtp_account

pytestmark = pytest.mark.django_db(transaction=True)
# Each round a fresh race: the threads' order differs from one to the next.
ROUNDS = 3


def steps():
    return [{"key": "mail", "kind": "send_email", "config": {"template_id": EmailTemplateFactory().pk}, "next": "tag"},
            {"key": "tag", "kind": "add_tag", "config": {"tag": "welcomed"}, "next": "done"},
            {"key": "done", "kind": "exit"}]


def together(*calls):
    """Run the calls in threads released at the same moment; their responses, in the calls' order."""
    start, answers = threading.Barrier(len(calls)), [None] * len(calls)

    def run(index, call):
        try:
            start.wait()
            answers[index] = call()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def moves_to(journey_id, status):
    return StatusChange.objects.filter(content_type=ContentType.objects.get_for_model(Journey), object_id=journey_id,
                                       to_status=status).count()


@pytest.fixture
def people(api_as, smtp_server):
    smtp_account(smtp_server)
    return api_as(MARKETER, "ann"), api_as(MARKETER, "bob")


def draft(client):
    made = client.post("/api/journeys/", {"name": "Welcome", "steps": steps()}, format="json")
    assert made.status_code == 201, made.content
    return f"/api/journeys/{made.json()['id']}/", made.json()["id"]


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_two_activating_at_once_one_wins_and_one_send_is_opened(people, round_):
    ann, bob = people
    url, journey_id = draft(ann)

    answers = together(lambda: ann.post(f"{url}activate/"), lambda: bob.post(f"{url}activate/"))

    assert sorted(answer.status_code for answer in answers) == [200, 409], [a.content for a in answers]
    assert Journey.objects.get(pk=journey_id).status == "active"
    assert moves_to(journey_id, "active") == 1
    mail = JourneyStep.objects.get(journey_id=journey_id, key="mail")
    assert mail.email_campaign is not None
    assert EmailCampaign.objects.filter(campaign__name__startswith="Journey Welcome: mail").count() == 1


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_two_pausing_at_once_one_wins(people, round_):
    ann, bob = people
    url, journey_id = draft(ann)
    assert ann.post(f"{url}activate/").status_code == 200

    answers = together(lambda: ann.post(f"{url}pause/"), lambda: bob.post(f"{url}pause/"))

    assert sorted(answer.status_code for answer in answers) == [200, 409], [a.content for a in answers]
    assert Journey.objects.get(pk=journey_id).status == "paused"
    assert moves_to(journey_id, "paused") == 1


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_an_edit_racing_an_archive_is_saved_whole_or_refused(people, round_):
    """Either the edit commits first (a whole new version, then archived) or the archive does and the
    edit is a 409 with no step of it saved: never a version half there, nor an edit of an archived one."""
    ann, bob = people
    url, journey_id = draft(ann)
    assert ann.post(f"{url}activate/").status_code == 200

    edited, archived = together(lambda: ann.post(f"{url}new-version/", {"steps": steps()}, format="json"),
                                lambda: bob.post(f"{url}archive/"))

    assert archived.status_code == 200, archived.content
    journey = Journey.objects.get(pk=journey_id)
    assert journey.status == "archived" and moves_to(journey_id, "archived") == 1
    second = JourneyStep.objects.filter(journey_id=journey_id, version=2)
    if edited.status_code == 409:
        assert edited.json()["code"] == "not_live"
        assert journey.version == 1 and not second.exists()
    else:
        assert edited.status_code == 200, edited.content
        assert journey.version == 2 and second.count() == 3
        assert second.get(key="mail").email_campaign is not None
    # Archived, the journey feeds no send any more: each completes once its queue is empty.
    assert not EmailCampaign.objects.filter(campaign__name__startswith="Journey Welcome", kept_open=True).exists()


def test_two_edits_at_once_are_two_versions(people):
    ann, bob = people
    url, journey_id = draft(ann)
    assert ann.post(f"{url}activate/").status_code == 200

    answers = together(lambda: ann.post(f"{url}new-version/", {"steps": steps()}, format="json"),
                       lambda: bob.post(f"{url}new-version/", {"steps": steps()}, format="json"))

    assert [answer.status_code for answer in answers] == [200, 200], [a.content for a in answers]
    assert sorted(answer.json()["version"] for answer in answers) == [2, 3]
    for version in (1, 2, 3):
        assert JourneyStep.objects.filter(journey_id=journey_id, version=version).count() == 3
