"""A watched repository's stargazers matched to contacts by the public email GitHub shows for them.

Pages are followed by GitHub's `Link: rel="next"`. Each login is looked up once ever (GitHubUser), so a
re-run, or another repository starred by the same people, spends no quota on them again. A matched
contact gets one "starred" event per repository. Nobody is created: a public email is not consent.

A short rate-limit wait (a secondary limit's retry-after, up to a minute) is waited out; the hourly quota
used up stops the run with the time to run it again; what was looked up so far is kept.
"""

from dataclasses import asdict, dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from aicmo_site.models import BackgroundRun, RunKind
from aicmo_site.runs import RunFailed, run_enqueue, run_progress, run_record, run_work
from crm.choices import EventKind
from crm.models import Contact, EngagementEvent
from crm.repository_models import GitHubUser, WatchedRepository
from crm.services.engagement import contact_record_event
from crm.services.repositories import GITHUB_READ_WAIT, Wait, read_waiting_briefly
from gateways import services as gateways
from gateways.errors import GatewayError

SOURCE = "github"


@dataclass
class StargazerCounts:
    pages: int = 0
    stargazers: int = 0
    looked_up: int = 0
    public_emails: int = 0
    contacts_matched: int = 0
    stars_recorded: int = 0


def _user(*, account_id: int, login: str, counts: StargazerCounts) -> GitHubUser:
    known = GitHubUser.objects.filter(login=login).first()
    if known is not None:
        return known
    email = read_waiting_briefly(lambda: gateways.code_host_public_email_read(account_id=account_id, login=login))
    counts.looked_up += 1
    counts.public_emails += bool(email)
    contact = Contact.objects.filter(email=email.lower()).first() if email else None
    try:
        with transaction.atomic():
            return GitHubUser.objects.create(login=login, email=email[:254], contact=contact)
    except IntegrityError:
        return GitHubUser.objects.get(login=login)


def _star(*, user: GitHubUser, full_name: str, counts: StargazerCounts) -> None:
    if user.contact_id is None:
        return
    counts.contacts_matched += 1
    source_id = f"star:{full_name}:{user.login}"
    with transaction.atomic():
        contact = Contact.objects.select_for_update().filter(pk=user.contact_id).first()
        # The webhook may have recorded this star already (under its delivery id): one star per repository.
        if contact is None or EngagementEvent.objects.filter(contact=contact, kind=EventKind.STARRED,
                                                             detail__repository=full_name).exists():
            return
        contact_record_event(contact=contact, kind=EventKind.STARRED, channel=SOURCE, source_kind=SOURCE,
                             source_id=source_id, detail={"repository": full_name, "login": user.login})
    counts.stars_recorded += 1


def stargazers_backfill(*, repository_id: int, progress=None) -> StargazerCounts:
    """Raises RunFailed (with the counts so far) when there is no GitHub account or GitHub fails."""
    counts = StargazerCounts()
    repository = WatchedRepository.objects.get(pk=repository_id)
    account = gateways.repository_account()
    if account is None:
        raise RunFailed("No GitHub account is enabled: add one in Provider accounts.", result=asdict(counts))
    page_url = ""
    try:
        while True:
            page = read_waiting_briefly(lambda url=page_url: gateways.repository_stargazers_read(
                account_id=account.pk, full_name=repository.full_name, page_url=url))
            counts.pages += 1
            for login in page.logins:
                counts.stargazers += 1
                _star(user=_user(account_id=account.pk, login=login, counts=counts), full_name=repository.full_name,
                      counts=counts)
            if progress:
                progress(counts.stargazers)
            if not page.next_url or page.next_url == page_url:
                return counts
            page_url = page.next_url
    except Wait as wait:
        seconds = wait.error.retry_after if wait.error.retry_after is not None else GITHUB_READ_WAIT
        again = timezone.localtime(timezone.now() + timezone.timedelta(seconds=seconds))
        raise RunFailed(f"GitHub's rate limit stopped the backfill; run it again after {again:%H:%M}. Users "
                        f"looked up so far ({counts.looked_up} in this run) are kept and not asked again.",
                        result=asdict(counts)) from wait
    except GatewayError as exc:
        raise RunFailed(f"The stargazers backfill stopped: {exc}", result=asdict(counts)) from exc


def _label(repository: WatchedRepository) -> str:
    return f"Stargazers of {repository.full_name}"


def stargazers_backfill_start(*, repository: WatchedRepository, by=None) -> BackgroundRun:
    """Queues the backfill for a worker; the button and the API answer with the run to follow."""
    return run_enqueue(kind=RunKind.STARGAZER_BACKFILL, task="crm.tasks.stargazers_backfill_task", by=by,
                       label=_label(repository), task_kwargs={"repository_id": repository.pk})


def stargazers_backfill_work(run_id: int, *, repository_id: int) -> BackgroundRun | None:
    return run_work(run_id, lambda run: asdict(stargazers_backfill(
        repository_id=repository_id, progress=lambda done: run_progress(run_id=run.pk, done=done))))


def stargazers_backfill_run(*, repository: WatchedRepository, by=None) -> BackgroundRun:
    """Worked right here (the command), recorded as a run that pages and the API show."""
    run = run_record(kind=RunKind.STARGAZER_BACKFILL, by=by, label=_label(repository))
    return stargazers_backfill_work(run.pk, repository_id=repository.pk)
