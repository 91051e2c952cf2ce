"""GitHub repositories an Admin watches, read on a schedule into one snapshot a day.

Every read is conditional (the ETag of the last answer): GitHub answers 304 when nothing changed, which
costs no quota and changes no figure. The network reads happen first and outside any transaction; the
day's snapshot is then written in one. A rate limit that asks for a short wait is waited out; a longer one
(the hourly quota used up) leaves the repository waiting until GitHub's reset time, and the schedule
skips it until then, the rest of the run with it: the same token would be refused for them too.
"""

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from aicmo_site.errors import DomainError
from crm.repository_models import ReleaseSource, RepositoryRelease, RepositorySnapshot, WatchedRepository
from gateways import services as gateways
from gateways.capabilities import Capability
from gateways.capabilities import RepositoryRelease as ReleaseRead
from gateways.errors import GatewayError, RateLimited
from gateways.models import ProviderAccount

RATE_LIMIT_RETRIES = 2
# The longest wait inside a run; a longer one (an hourly quota's reset) is waited out between runs.
GITHUB_READ_WAIT = 60.0
NO_TRAFFIC = "not available with this token"


class PollStatus:
    READ = "read"
    UNCHANGED = "unchanged"  # GitHub answered 304 to the figures and the releases
    WAITING = "waiting"  # GitHub's rate limit asked to come back later
    FAILED = "failed"
    NO_ACCOUNT = "no account"


@dataclass
class PollResult:
    repository: str
    status: str
    detail: str = ""


class Wait(Exception):
    """GitHub asked for a wait longer than a run waits (or kept refusing)."""

    def __init__(self, error: RateLimited):
        super().__init__(error.message)
        self.error = error


def read_waiting_briefly(call):
    """call(), a short rate-limit wait waited out; a longer one raises Wait."""
    for attempt in range(RATE_LIMIT_RETRIES + 1):
        try:
            return call()
        except RateLimited as exc:
            wait = exc.retry_after
            if wait is None or wait > GITHUB_READ_WAIT or attempt == RATE_LIMIT_RETRIES:
                raise Wait(exc) from exc
            time.sleep(wait)
    raise AssertionError("unreachable")


@transaction.atomic
def repository_watch(*, full_name: str, account: ProviderAccount | None = None, by=None) -> WatchedRepository:
    full_name = full_name.strip().strip("/")
    if full_name.lower().startswith("https://github.com/"):
        full_name = full_name[len("https://github.com/"):].strip("/")
    if WatchedRepository.objects.filter(full_name__iexact=full_name).exists():
        raise DomainError(f"{full_name} is watched already.", "duplicate", extra={"field": "full_name"})
    if account is not None and account.capability != Capability.REPOSITORY_SIGNALS:
        raise DomainError(f"{account} is not a GitHub account.", "invalid", extra={"field": "account"})
    repository = WatchedRepository(full_name=full_name, account=account, added_by=by)
    repository.full_clean()
    repository.save()
    return repository


def repository_poll_soon(*, repository: WatchedRepository) -> None:
    """"Poll now": read it on a worker at once rather than at the next hourly run (a rate limit still
    holds: a repository waiting for GitHub's reset is left waiting)."""
    from django_q.tasks import async_task

    repository_id = repository.pk
    transaction.on_commit(lambda: async_task("crm.tasks.repository_poll_task", repository_id, group="crm"))


@transaction.atomic
def repository_unwatch(*, repository: WatchedRepository) -> None:
    repository.delete()


def releases_record(*, full_name: str, releases: list[ReleaseRead], source: str) -> int:
    """Records published releases once each (by tag); returns how many were new."""
    rows = [RepositoryRelease(repository_name=full_name, tag=r.tag[:200], name=r.name[:300], url=r.url[:500],
                              published_at=r.published_at, source=source)
            for r in releases if r.tag and r.published_at is not None]
    known = set(RepositoryRelease.objects.filter(repository_name=full_name, tag__in=[r.tag for r in rows])
                .values_list("tag", flat=True))
    RepositoryRelease.objects.bulk_create([r for r in rows if r.tag not in known], ignore_conflicts=True)
    return len({r.tag for r in rows} - known)


def _figures(repository: WatchedRepository, account_id: int, previous: RepositorySnapshot | None):
    # Without a snapshot to carry forward a 304 would leave nothing to write: ask unconditionally.
    etag = repository.figures_etag if previous is not None else ""
    full_name = repository.full_name
    figures = read_waiting_briefly(lambda: gateways.repository_figures_read(
        account_id=account_id, full_name=full_name, etag=etag))
    etag = repository.releases_etag if previous is not None else ""
    releases = read_waiting_briefly(lambda: gateways.repository_releases_read(
        account_id=account_id, full_name=full_name, etag=etag))
    traffic = {kind: read_waiting_briefly(lambda kind=kind: gateways.repository_traffic_read(
        account_id=account_id, full_name=repository.full_name, kind=kind)) for kind in ("views", "clones")}
    return figures, releases, traffic


def repository_poll(*, repository_id: int, account_id: int | None = None) -> PollResult:
    repository = WatchedRepository.objects.get(pk=repository_id)
    now = timezone.now()
    if repository.not_before and repository.not_before > now:
        return PollResult(repository.full_name, PollStatus.WAITING,
                          f"GitHub's rate limit: waiting until {repository.not_before:%H:%M} UTC")
    account_id = account_id or repository.account_id
    if account_id is None:
        account = gateways.repository_account()
        if account is None:
            return PollResult(repository.full_name, PollStatus.NO_ACCOUNT,
                              "No GitHub account is enabled: add one in Provider accounts.")
        account_id = account.pk
    previous = repository.snapshots.order_by("-day").first()
    try:
        figures, releases, traffic = _figures(repository, account_id, previous)
    except Wait as wait:
        seconds = wait.error.retry_after if wait.error.retry_after is not None else GITHUB_READ_WAIT
        WatchedRepository.objects.filter(pk=repository.pk).update(
            not_before=now + timedelta(seconds=seconds), last_error=str(wait.error))
        return PollResult(repository.full_name, PollStatus.WAITING, str(wait.error))
    except GatewayError as exc:
        WatchedRepository.objects.filter(pk=repository.pk).update(polled_at=now, last_error=str(exc))
        return PollResult(repository.full_name, PollStatus.FAILED, str(exc))
    with transaction.atomic():
        if not releases.not_modified:
            releases_record(full_name=repository.full_name, releases=releases.value, source=ReleaseSource.POLL)
        values = {
            **({"stars": previous.stars, "forks": previous.forks, "watchers": previous.watchers,
                "open_issues": previous.open_issues} if figures.not_modified else
               {"stars": figures.value.stars, "forks": figures.value.forks, "watchers": figures.value.watchers,
                "open_issues": figures.value.open_issues}),
            "releases": previous.releases if releases.not_modified else len(releases.value),
            "views": traffic["views"].count if traffic["views"] else None,
            "clones": traffic["clones"].count if traffic["clones"] else None,
            "traffic_available": traffic["views"] is not None and traffic["clones"] is not None,
        }
        RepositorySnapshot.objects.update_or_create(repository=repository, day=timezone.localdate(now),
                                                    defaults=values)
        WatchedRepository.objects.filter(pk=repository.pk).update(
            figures_etag=figures.etag, releases_etag=releases.etag, polled_at=now, not_before=None, last_error="")
    unchanged = figures.not_modified and releases.not_modified
    return PollResult(repository.full_name, PollStatus.UNCHANGED if unchanged else PollStatus.READ,
                      "" if values["traffic_available"] else f"traffic {NO_TRAFFIC}")


def repositories_poll() -> list[PollResult]:
    """Every watched repository not waiting for a rate limit; once a token must wait, the rest read with
    that token are skipped (GitHub would refuse them too), those of other tokens are still read."""
    default = gateways.repository_account()
    results = []
    pending = list(WatchedRepository.objects.order_by("polled_at", "pk").values_list("pk", "full_name", "account_id"))
    waiting_accounts = set()
    for repository_id, full_name, own_account_id in pending:
        account_id = own_account_id or (default.pk if default else None)
        if account_id is None:
            results.append(repository_poll(repository_id=repository_id))
            continue
        if account_id in waiting_accounts:
            results.append(PollResult(full_name, PollStatus.WAITING, "skipped: GitHub's rate limit"))
            continue
        result = repository_poll(repository_id=repository_id, account_id=account_id)
        results.append(result)
        if result.status == PollStatus.WAITING:
            waiting_accounts.add(account_id)
    return results


def release_from_webhook(*, delivery_id: str, payload: dict) -> None:
    """A `release` delivery (applied once per delivery by crm.services.github) marks the release."""
    release = payload.get("release") or {}
    full_name = str((payload.get("repository") or {}).get("full_name") or "")
    # "published" comes once per release; "created" and "released" would repeat it.
    if payload.get("action") != "published" or not full_name:
        return
    published = str(release.get("published_at") or "")
    try:
        published_at = datetime.fromisoformat(published.replace("Z", "+00:00")) if published else None
    except ValueError:
        published_at = None
    releases_record(full_name=full_name, source=ReleaseSource.WEBHOOK, releases=[ReleaseRead(
        tag=str(release.get("tag_name") or ""), name=str(release.get("name") or ""),
        url=str(release.get("html_url") or ""), published_at=published_at or timezone.now())])
