"""Back-office pages of webhook subscriptions and their delivery log (Admins only)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, user_passes_test
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from aicmo_site.errors import DomainError
from aicmo_site.roles import ADMIN, user_roles
from webhooks import selectors, services
from webhooks.events_catalogue import EVENT_CHOICES
from webhooks.forms import WebhookSubscriptionForm
from webhooks.models import MessageStatus, WebhookSubscription

PAGE_SIZE = 25


def _is_admin(user) -> bool:
    if ADMIN not in user_roles(user):
        raise PermissionDenied
    return True


admin_only = user_passes_test(_is_admin)


@login_required
@admin_only
def subscription_list(request):
    form = WebhookSubscriptionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            subscription, secret = services.subscription_create(by=request.user, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            return render(request, "webhooks/secret.html", {"subscription": subscription, "secret": secret})
    page = Paginator(selectors.subscription_list(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "webhooks/subscription_list.html", {"page": page, "form": form})


@login_required
@admin_only
def subscription_detail(request, pk: int):
    subscription = get_object_or_404(WebhookSubscription, pk=pk)
    status = request.GET.get("status", "")
    event = request.GET.get("event", "")
    log = selectors.message_list(subscription=subscription, status=status, event=event)
    page = Paginator(log, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "webhooks/subscription_detail.html", {
        "subscription": subscription, "page": page, "filters": {"status": status, "event": event},
        "statuses": MessageStatus.choices, "events": EVENT_CHOICES,
    })


@login_required
@admin_only
@require_POST
def subscription_rotate_secret(request, pk: int):
    subscription = get_object_or_404(WebhookSubscription, pk=pk)
    secret = services.subscription_rotate_secret(subscription=subscription)
    return render(request, "webhooks/secret.html", {"subscription": subscription, "secret": secret})


@login_required
@admin_only
@require_POST
def subscription_toggle(request, pk: int):
    subscription = get_object_or_404(WebhookSubscription, pk=pk)
    services.subscription_update(subscription=subscription, active=not subscription.active)
    messages.success(request, f"{subscription.name} {'receives events again' if subscription.active else 'paused'}.")
    return redirect("webhooks:subscription-detail", pk=pk)


@login_required
@admin_only
@require_POST
def subscription_delete(request, pk: int):
    subscription = get_object_or_404(WebhookSubscription, pk=pk)
    services.subscription_delete(subscription=subscription)
    messages.success(request, f"Deleted {subscription.name} and its delivery log.")
    return redirect("webhooks:subscription-list")
