"""The back-office page of watched GitHub repositories: each with its last read, stars and forks and
whether GitHub's rate limit holds it back; an Admin adds one (owner/name and the token account that reads
it), removes one (confirmed) or has it read now. Which repositories are read spends a token's hourly
quota, so changes are an Admin's call, as in the API."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from aicmo_site.errors import DomainError, add_domain_error
from aicmo_site.roles import holds_admin_role
from crm import services
from crm.repository_models import FULL_NAME, WatchedRepository
from crm.repository_selectors import REPOSITORY_ORDERINGS, watched_repositories
from gateways.capabilities import Capability
from gateways.models import ProviderAccount

PAGE_SIZE = 50


class WatchRepositoryForm(forms.Form):
    full_name = forms.CharField(label="Repository", max_length=140, help_text="owner/name, e.g. octocat/Hello-World, "
                                "or its github.com address")
    account = forms.ModelChoiceField(
        queryset=ProviderAccount.objects.filter(capability=Capability.REPOSITORY_SIGNALS).order_by("priority", "name"),
        required=False, label="Token account", empty_label="The first enabled GitHub account",
        help_text="A private repository needs a token that may see it.")

    def clean_full_name(self):
        value = self.cleaned_data["full_name"].strip().strip("/")
        if value.lower().startswith("https://github.com/"):
            value = value[len("https://github.com/"):].strip("/")
        FULL_NAME(value)
        return value


def _admin_only(request) -> None:
    if not holds_admin_role(request.user):
        raise PermissionDenied("Only an Admin chooses which repositories spend the GitHub token's quota.")


@login_required
@permission_required("crm.view_watchedrepository", raise_exception=True)
def repository_list(request):
    search = request.GET.get("q", "").strip()
    ordering = request.GET.get("ordering", "full_name")
    repositories = watched_repositories(search=search, ordering=ordering)
    page = Paginator(repositories, PAGE_SIZE).get_page(request.GET.get("page"))
    form = WatchRepositoryForm(request.POST or None)
    if request.method == "POST":
        _admin_only(request)
        if form.is_valid():
            try:
                repository = services.repository_watch(by=request.user, **form.cleaned_data)
            except DomainError as error:
                add_domain_error(form, error, default_field=error.extra.get("field", "full_name"))
            else:
                services.repository_poll_soon(repository=repository)
                messages.success(request, f"{repository} is watched; its first read is on its way.")
                return redirect("crm:repository-list")
    query = "&".join(f"{name}={value}" for name, value in (("q", search), ("ordering", ordering)) if value)
    return render(request, "crm/repository_list.html", {
        "page": page, "q": search, "ordering": ordering, "orderings": REPOSITORY_ORDERINGS, "query": query,
        "form": form, "may_change": holds_admin_role(request.user), "now": timezone.now()})


@login_required
@permission_required("crm.view_watchedrepository", raise_exception=True)
@require_POST
def repository_poll_now(request, pk: int):
    _admin_only(request)
    repository = get_object_or_404(WatchedRepository, pk=pk)
    services.repository_poll_soon(repository=repository)
    if repository.not_before and repository.not_before > timezone.now():
        messages.warning(request, f"{repository} waits for GitHub's rate limit until "
                                  f"{timezone.localtime(repository.not_before):%H:%M}; it is read then.")
    else:
        messages.success(request, f"{repository} is being read now; reload in a moment for its figures.")
    return redirect("crm:repository-list")


@login_required
@permission_required("crm.view_watchedrepository", raise_exception=True)
def repository_remove(request, pk: int):
    """GET asks first (its daily figures go with it); POST removes."""
    _admin_only(request)
    repository = get_object_or_404(WatchedRepository, pk=pk)
    if request.method == "POST":
        services.repository_unwatch(repository=repository)
        messages.success(request, f"{repository} is no longer watched.")
        return redirect("crm:repository-list")
    return render(request, "crm/repository_confirm_remove.html", {
        "repository": repository, "days": repository.snapshots.count()})
