"""A/B test results of campaigns' emails, read from publishing's email A/B tests (which own the
statistics: Wilson intervals, two-proportion z-test of each variant against the best)."""

from publishing.email.models import ABTest
from publishing.email.services.ab_tests import ab_test_results


def ab_test_reports(campaign_ids) -> dict[int, dict]:
    """{campaign id: its A/B test's variants, rates, intervals, p-values and winner}."""
    tests = ABTest.objects.filter(email_campaign__campaign_id__in=campaign_ids).select_related(
        "email_campaign", "winner")
    found = {}
    for test in tests:
        variants = []
        for result in ab_test_results(test):
            measured = result.recipients > 0
            variants.append({
                "label": result.label, "recipients": result.recipients, "successes": result.successes,
                "rate": result.rate if measured else None,
                "interval_low": result.interval[0] if measured else None,
                "interval_high": result.interval[1] if measured else None,
                "p_value": result.p_value,
                "winner": test.winner_id == result.variant_id,
            })
        found[test.email_campaign.campaign_id] = {
            "metric": test.metric, "metric_label": test.get_metric_display(), "status": test.status,
            "confidence_level": test.confidence_level, "winner": test.winner.label if test.winner else None,
            "decided_at": test.decided_at, "decision_note": test.decision_note, "variants": variants,
        }
    return found
