"""Stripe backfill: every customer and charge already in Stripe, recorded as the webhook records them.

Customers first (so contacts carry their Stripe id before their charges arrive), then charges, page by
page from one payments account. Re-running adds nothing: a payment is known by the ids Stripe names it
by, a refund by its charge's refunded total. A rate limit is waited out (Retry-After, or a doubling
pause when Stripe gives none) up to RATE_LIMIT_RETRIES times; any other failure stops the run, which a
re-run resumes harmlessly from the start.
"""

import time
from dataclasses import asdict, dataclass
from datetime import datetime

from aicmo_site.models import BackgroundRun, RunKind
from aicmo_site.runs import RunFailed, run_progress, run_record, run_work
from crm.services.payments import stripe_charge_record, stripe_customer_record
from crm.services.value_tiers import value_tiers_recompute
from gateways import services as gateways
from gateways.errors import GatewayError, RateLimited

RATE_LIMIT_RETRIES = 5
# The longest single wait: a Retry-After of hours means the account is throttled, not busy.
LONGEST_WAIT_SECONDS = 60.0


@dataclass
class BackfillCounts:
    customers: int = 0
    contacts: int = 0
    charges: int = 0
    payments: int = 0
    refunds: int = 0
    pages: int = 0
    rate_limit_waits: int = 0


def _page(*, account_id: int, listing: str, after: str, since: datetime | None, counts: BackfillCounts):
    pause, waits = 1.0, 0
    while True:
        try:
            page = gateways.payments_list_page(account_id=account_id, listing=listing, after=after,
                                               created_since=since)
        except RateLimited as exc:
            if waits == RATE_LIMIT_RETRIES:
                raise
            waits += 1
            counts.rate_limit_waits += 1
            time.sleep(min(exc.retry_after if exc.retry_after is not None else pause, LONGEST_WAIT_SECONDS))
            pause *= 2
            continue
        counts.pages += 1
        return page


def _pages(*, account_id: int, listing: str, since: datetime | None, counts: BackfillCounts):
    after = ""
    while True:
        page = _page(account_id=account_id, listing=listing, after=after, since=since, counts=counts)
        yield page.items
        if not page.has_more or not page.cursor:
            return
        if page.cursor == after:
            raise RunFailed(f"Stripe answered the {listing} after {after} with the same page again; stopped there.",
                            result=asdict(counts))
        after = page.cursor


def stripe_backfill(*, since: datetime | None = None, progress=None) -> BackfillCounts:
    """Raises RunFailed (with the counts so far) when there is no payments account or Stripe fails."""
    counts = BackfillCounts()
    account = gateways.payments_account()
    if account is None:
        raise RunFailed("No payments provider account is enabled: add a Stripe account in Provider accounts.",
                        result=asdict(counts))
    try:
        for customers in _pages(account_id=account.pk, listing="customers", since=since, counts=counts):
            for customer in customers:
                counts.customers += 1
                counts.contacts += stripe_customer_record(customer=customer) is not None
            if progress:
                progress(counts.customers)
        for charges in _pages(account_id=account.pk, listing="charges", since=since, counts=counts):
            touched = set()
            for charge in charges:
                counts.charges += 1
                contact, paid, refunded = stripe_charge_record(charge=charge)
                counts.payments += paid
                counts.refunds += refunded
                if paid or refunded:
                    touched.add(contact.pk)
            value_tiers_recompute(contact_ids=touched)
            if progress:
                progress(counts.customers + counts.charges)
    except GatewayError as exc:
        raise RunFailed(f"The Stripe backfill stopped: {exc}", result=asdict(counts)) from exc
    return counts


def stripe_backfill_run(*, since: datetime | None = None, by=None) -> BackgroundRun:
    """A backfill worked right here (a command), recorded as a run that pages and the API show."""
    label = f"Stripe backfill since {since:%Y-%m-%d}" if since else "Stripe backfill"
    run = run_record(kind=RunKind.STRIPE_BACKFILL, by=by, label=label)
    return run_work(run.pk, lambda run: asdict(stripe_backfill(
        since=since, progress=lambda done: run_progress(run_id=run.pk, done=done))))
