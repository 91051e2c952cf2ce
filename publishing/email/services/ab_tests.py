"""A/B tests: variants get an even split of a test share, the rest waits (held) for the winner.

After the waiting period the variants' rates are compared with a two-proportion z-test (best against
the runner-up); a winner is chosen when p < 1 - confidence level, or by a person at any time. The held
deliveries then get the winner and are released to the workers.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from aicmo_site.errors import ConflictError, DomainError
from aicmo_site.transitions import Action, Workflow
from publishing.email.choices import AB_TERMINAL, AB_TRANSITIONS, ABMetric, ABStatus, DeliveryStatus, SendStatus
from publishing.email.models import ABTest, ABVariant, EmailCampaign, EmailDelivery
from publishing.email.services.wake import campaign_wake
from publishing.email.stats import Proportion, two_proportion_z_test

_CHUNK = 1000


def _variants_out(test: ABTest, user) -> bool:
    # The variants go out once the send runs: before, nothing is measured; after, nobody is held.
    return test.email_campaign.status in (SendStatus.SENDING, SendStatus.PAUSED)


AB_TEST_WORKFLOW = Workflow(
    model=ABTest, transitions=AB_TRANSITIONS, terminal=AB_TERMINAL, noun="A/B test",
    actions=[Action("pick_winner", "Pick the winner", to=ABStatus.DECIDED,
                    permission="publishing.change_emailcampaign", condition=_variants_out,
                    refusal="A winner is picked while the send is sending or paused.")],
)


@transaction.atomic
def ab_test_create(*, email_campaign: EmailCampaign, variants: list[dict], metric: str = ABMetric.OPEN_RATE,
                   test_share: int = 20, confidence_level: float = 0.95, wait_minutes: int = 240,
                   automatic: bool = True) -> ABTest:
    """variants: [{"label": "A", "subject": "...", "template": EmailTemplate | None}, ...] (two or more)."""
    if email_campaign.status != SendStatus.DRAFT:
        raise ConflictError("An A/B test is set up before sending.", code="already_sent")
    if len(variants) < 2:
        raise DomainError("An A/B test needs at least two variants.", code="too_few_variants")
    if email_campaign.deliver_at_best_hour:
        # See publishing.email.services.send_times.best_hour_refusal.
        raise DomainError("An A/B test cannot be combined with delivering at each contact's best hour: "
                          "choose one.", code="best_hour_with_ab_test")
    if ABTest.objects.filter(email_campaign=email_campaign).exists():
        raise ConflictError("This campaign already has an A/B test.", code="ab_test_exists")
    test = ABTest(email_campaign=email_campaign, metric=metric, test_share=test_share,
                  confidence_level=confidence_level, wait_minutes=wait_minutes, automatic=automatic)
    test.full_clean()
    test.save()
    for entry in variants:
        variant = ABVariant(ab_test=test, label=entry["label"], subject=entry.get("subject", ""),
                            template=entry.get("template"))
        if not variant.subject and variant.template is None:
            raise DomainError(f"Variant {variant.label} changes neither the subject nor the content.",
                              code="empty_variant")
        variant.full_clean()
        variant.save()
    return test


def ab_test_assign(*, email_campaign: EmailCampaign) -> None:
    """Split the frozen audience: test share evenly over the variants, the rest held for the winner."""
    test = ABTest.objects.filter(email_campaign=email_campaign, status=ABStatus.TESTING).first()
    if test is None:
        return
    variants = list(test.variants.order_by("label"))
    ids = list(EmailDelivery.objects.filter(campaign_id=email_campaign.campaign_id).values_list("id", flat=True))
    random.SystemRandom().shuffle(ids)
    in_test = max(len(variants), round(len(ids) * test.test_share / 100)) if ids else 0
    in_test = min(in_test, len(ids))
    for index, variant in enumerate(variants):
        chosen = ids[index:in_test:len(variants)]
        for start in range(0, len(chosen), _CHUNK):
            EmailDelivery.objects.filter(id__in=chosen[start:start + _CHUNK]).update(variant=variant)
    rest = ids[in_test:]
    for start in range(0, len(rest), _CHUNK):
        EmailDelivery.objects.filter(id__in=rest[start:start + _CHUNK]).update(held=True)


@dataclass
class VariantResult:
    variant_id: int
    label: str
    recipients: int
    successes: int
    rate: float
    interval: tuple[float, float]
    p_value: float | None  # against the best variant; None for the best itself


def ab_test_results(test: ABTest) -> list[VariantResult]:
    success = Q(deliveries__first_opened_at__isnull=False) if test.metric == ABMetric.OPEN_RATE else Q(
        deliveries__first_clicked_at__isnull=False)
    sent = Q(deliveries__status=DeliveryStatus.SENT)
    rows = test.variants.annotate(recipients=Count("deliveries", filter=sent),
                                  successes=Count("deliveries", filter=sent & success)).order_by("label")
    proportions = {row.pk: (row, Proportion(row.successes, row.recipients)) for row in rows}
    if not proportions:
        return []
    best_id = max(proportions, key=lambda pk: (proportions[pk][1].rate, -proportions[pk][0].pk))
    best = proportions[best_id][1]
    return [
        VariantResult(variant_id=pk, label=row.label, recipients=p.trials, successes=p.successes, rate=p.rate,
                      interval=p.wilson_interval(test.confidence_level),
                      p_value=None if pk == best_id else two_proportion_z_test(best, p)[1])
        for pk, (row, p) in proportions.items()
    ]


def ab_test_transition(*, test: ABTest, to: str, by=None, note: str = "", **fields) -> ABTest:
    fields.update(decided_at=timezone.now(), decided_by=by, decision_note=note)
    return AB_TEST_WORKFLOW.transition(test, to, by=by, note=note, fields=fields)


@transaction.atomic
def ab_test_pick_winner(*, test: ABTest, winner: ABVariant, by=None, note: str = "") -> ABTest:
    """Choose the winner (by hand or from the evaluation) and release the held rest of the audience to it."""
    if winner.ab_test_id != test.pk:
        raise DomainError("That variant belongs to another A/B test.", code="foreign_variant")
    AB_TEST_WORKFLOW.check_action(test, "pick_winner", by)
    ab_test_transition(test=test, to=ABStatus.DECIDED, by=by, note=note or f"Winner: {winner.label}",
                       winner=winner)
    email_campaign = test.email_campaign
    EmailDelivery.objects.filter(campaign_id=email_campaign.campaign_id, held=True,
                                 status=DeliveryStatus.QUEUED).update_in_id_order(variant=winner, held=False)
    transaction.on_commit(lambda: campaign_wake(email_campaign.pk))
    return test


def ab_test_evaluate(*, test: ABTest, now=None) -> ABVariant | None:
    """After the waiting period, pick the best variant when it beats the runner-up significantly."""
    now = now or timezone.now()
    started = test.email_campaign.started_at
    if test.status != ABStatus.TESTING or not started or now < started + timedelta(minutes=test.wait_minutes):
        return None
    results = ab_test_results(test)
    alpha = 1 - test.confidence_level
    others = [r for r in results if r.p_value is not None]
    if not others or any(r.p_value >= alpha for r in others):
        return None
    best = next(r for r in results if r.p_value is None)
    summary = ", ".join(f"{r.label} {r.rate:.1%} (p={r.p_value:.4f})" for r in others)
    winner = ABVariant.objects.get(pk=best.variant_id)
    ab_test_pick_winner(test=test, winner=winner,
                        note=f"{best.label} {best.rate:.1%} beat {summary} at {test.confidence_level:.0%} confidence")
    return winner


def ab_tests_evaluate_due() -> int:
    decided = 0
    # A test whose winner is picked by hand waits for that person, however clear its results.
    for test in ABTest.objects.filter(status=ABStatus.TESTING, automatic=True,
                                      email_campaign__status=SendStatus.SENDING).select_related("email_campaign"):
        if ab_test_evaluate(test=test):
            decided += 1
    return decided
