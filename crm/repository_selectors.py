"""Reads of watched GitHub repositories, shared by the back-office page and the API: each with its latest
day's figures annotated in the same query (no query per row)."""

from django.db.models import F, OuterRef, QuerySet, Subquery

from crm.repository_models import RepositorySnapshot, WatchedRepository

LATEST = ("day", "stars", "forks", "watchers", "open_issues", "releases", "views", "clones", "traffic_available")
# What the page sorts by, in the marketer's words; "-" first for newest or largest first.
REPOSITORY_ORDERINGS = {"full_name": "Name", "-polled_at": "Last read", "-latest_stars": "Most stars",
                        "-latest_forks": "Most forks"}


def watched_repositories(*, search: str = "", ordering: str = "full_name") -> QuerySet[WatchedRepository]:
    latest = RepositorySnapshot.objects.filter(repository=OuterRef("pk")).order_by("-day")
    repositories = WatchedRepository.objects.select_related("account").annotate(
        **{f"latest_{name}": Subquery(latest.values(name)[:1]) for name in LATEST})
    if search:
        repositories = repositories.filter(full_name__icontains=search)
    order = ordering if ordering in REPOSITORY_ORDERINGS else "full_name"
    # Never read, or no figures yet: last whichever way the order goes; the name keeps ties in one order.
    key = F(order.lstrip("-"))
    return repositories.order_by(key.desc(nulls_last=True) if order.startswith("-") else key.asc(), "full_name",
                                 "pk")
