"""An import that puts its created and/or updated contacts on a journey, chunk by chunk as they commit."""

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile

from aicmo_site.errors import DomainError
from aicmo_site.testing.worker import wait_for
from automation.models import JourneyEnrolment
from automation.services import journey_pause
from automation.tests.factories import journey
from crm.choices import ImportPolicy, RunStatus
from crm.imports import import_run_create, import_run_start
from crm.models import Contact, ImportRun
from crm.tests.factories import ContactFactory

FILE = "email,first_name\nstored@example.com,Stored\nnew@example.com,New\nbroken,X\n"


def enrolled(trip) -> list[str]:
    return sorted(Contact.objects.filter(pk__in=JourneyEnrolment.objects.filter(journey=trip).values("contact_id"))
                  .values_list("email", flat=True))


def run_import(content: str = FILE, **options) -> ImportRun:
    run = import_run_create(upload=ContentFile(content.encode(), name="c.csv"), **options)
    return import_run_start(run=run, background=False)


@pytest.mark.django_db
@pytest.mark.parametrize(("rows", "policy", "expected"), [
    ("created", ImportPolicy.UPDATE, ["new@example.com"]),
    ("updated", ImportPolicy.UPDATE, ["stored@example.com"]),
    ("both", ImportPolicy.UPDATE, ["new@example.com", "stored@example.com"]),
    # Under "skip existing" a stored contact is not updated, so it does not enter.
    ("both", ImportPolicy.SKIP_EXISTING, ["new@example.com"]),
])
def test_the_chosen_rows_enter_the_journey(rows, policy, expected):
    ContactFactory(email="stored@example.com")
    ContactFactory(email="bystander@example.com")
    trip = journey()
    run = run_import(journey_id=trip.pk, journey_rows=rows, policy=policy)
    assert run.status == RunStatus.COMPLETED
    assert enrolled(trip) == expected
    assert set(JourneyEnrolment.objects.filter(journey=trip).values_list("source", flat=True)) == {f"import:{run.pk}"}


@pytest.mark.django_db
def test_an_import_without_a_journey_enrols_no_one():
    trip = journey()
    run_import()
    assert enrolled(trip) == []


@pytest.mark.django_db
def test_only_an_active_journey_may_be_chosen_and_one_paused_since_takes_no_one():
    trip = journey()
    draft = journey(name="Draft", active=False)
    with pytest.raises(DomainError) as refused:
        run_import(journey_id=draft.pk)
    assert refused.value.code == "invalid_journey"
    run = import_run_create(upload=ContentFile(FILE.encode(), name="c.csv"), journey_id=trip.pk)
    journey_pause(journey=trip)
    import_run_start(run=run, background=False)
    assert enrolled(trip) == []


@pytest.mark.django_db
def test_the_api_takes_the_journey_and_refuses_an_unknown_one(api_as):
    api = api_as("Marketer")
    trip = journey()
    wrong = api.post("/api/imports/", {"file": SimpleUploadedFile("c.csv", FILE.encode()), "journey": trip.pk + 99},
                     format="multipart")
    assert wrong.status_code == 400 and "journey" in wrong.json()["fields"], wrong.json()
    answer = api.post("/api/imports/", {"file": SimpleUploadedFile("c.csv", FILE.encode()), "journey": trip.pk,
                                        "journey_rows": "created"}, format="multipart")
    assert answer.status_code == 201, answer.json()
    assert (answer.json()["journey_id"], answer.json()["journey_rows"]) == (trip.pk, "created")
    assert enrolled(trip) == ["new@example.com", "stored@example.com"]


@pytest.mark.django_db
def test_the_upload_page_offers_active_journeys_and_the_run_page_names_it(client, make_user):
    trip = journey(name="Onboarding")
    journey(name="Not yet", active=False)
    client.force_login(make_user("marketer", role="Marketer"))
    page = client.get("/contacts/imports/").content.decode()
    assert f'<option value="{trip.pk}">Onboarding</option>' in page and "Not yet" not in page
    answer = client.post("/contacts/imports/", {"file": SimpleUploadedFile("c.csv", FILE.encode()),
                                                "policy": "update", "journey": trip.pk, "journey_rows": "both"})
    run = ImportRun.objects.get()
    assert answer.status_code == 302 and run.journey_id == trip.pk
    assert "enter the journey “Onboarding”" in client.get(f"/contacts/imports/{run.pk}/").content.decode()


@pytest.mark.worker
def test_a_background_import_enrols_each_chunk_on_a_real_worker(qcluster, settings):
    settings.CRM_IMPORT_INLINE_MAX_BYTES = 0
    trip = journey()
    content = "email\n" + "".join(f"p{n}@example.com\n" for n in range(120))
    run = import_run_start(run=import_run_create(upload=ContentFile(content.encode(), name="big.csv"),
                                                 journey_id=trip.pk))
    qcluster(CRM_IMPORT_CHUNK_ROWS="50")
    done = wait_for(lambda: ImportRun.objects.filter(pk=run.pk, status__in=[RunStatus.COMPLETED, RunStatus.FAILED])
                    .first(), timeout=180, message="the import to finish")
    assert (done.status, done.created_count) == (RunStatus.COMPLETED, 120)
    assert JourneyEnrolment.objects.filter(journey=trip).values("contact_id").distinct().count() == 120
    assert JourneyEnrolment.objects.filter(journey=trip).count() == 120
