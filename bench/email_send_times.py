"""Send-time optimisation at size: how long giving N deliveries each its contact's best hour takes, against the
plain queueing of the same N (the audience frozen into deliveries), measured in turns in the same run.

Contact i has three past opens at hour i % 24, so every delivery takes the contact's own hour (the costliest
tier: one UPDATE … FROM over every contact's opens) and the spread over the 24 hours is checked too. Prints the seconds
of each turn, the ratio, and the load average (the machine is shared: figures are indicative).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/aicmo_bench python -m bench email_send_times 100000
"""

import argparse
import os
import secrets
import statistics
import time

from cryptography.fernet import Fernet


def main(argv):
    parser = argparse.ArgumentParser(prog="bench email_send_times", description=__doc__)
    parser.add_argument("audience", type=int, nargs="?", default=100_000)
    parser.add_argument("--turns", type=int, default=3)
    args = parser.parse_args(argv)
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("SECRET_KEY", "bench-email-send-times-" + secrets.token_hex(24))
    os.environ.setdefault("FIELD_ENCRYPTION_KEY", Fernet.generate_key().decode())

    from bench.conditions import describe, setup_django

    setup_django()
    from django.core.management import call_command
    from django.db import transaction
    from django.db.models import Count
    from django.utils import timezone

    from publishing.email.models import EmailCampaign, EmailDelivery
    from publishing.email.services.campaigns import _freeze_audience
    from publishing.email.services.send_times import deliveries_spread_to_best_hours
    from publishing.models import Campaign
    from publishing.tests.email.helpers import audience_with_open_habits

    call_command("migrate", verbosity=0)
    run = time.strftime("%Y%m%d%H%M%S")
    started = time.perf_counter()
    model = audience_with_open_habits(args.audience, start=timezone.now(), prefix=f"times{run}")
    print(f"audience of {args.audience} contacts with open habits built in {time.perf_counter() - started:.1f} s")

    def a_send(best_hour: bool) -> EmailCampaign:
        campaign = Campaign.objects.create(name=f"Send times {run} {time.perf_counter()}",
                                           audience=model.campaign.audience)
        return EmailCampaign.objects.create(campaign=campaign, template=model.template, deliver_at_best_hour=best_hour)

    plain, optimised = [], []
    for turn in range(args.turns):
        for best_hour, figures in ((False, plain), (True, optimised)):
            send = a_send(best_hour)
            started = time.perf_counter()
            with transaction.atomic():
                _freeze_audience(send)
                if best_hour:
                    deliveries_spread_to_best_hours(email_campaign=send)
            figures.append(time.perf_counter() - started)
            if best_hour:
                hours = (EmailDelivery.objects.filter(campaign_id=send.campaign_id).order_by()
                         .values_list("next_attempt_at").annotate(n=Count("pk")))
                counts = sorted(n for _, n in hours)
                print(f"turn {turn + 1}: plain queueing {plain[-1]:.2f} s, queueing at best hours {figures[-1]:.2f} s; "
                      f"{len(counts)} distinct times, {counts[0]}-{counts[-1]} deliveries each")
            Campaign.objects.filter(pk=send.campaign_id).delete()
    median_plain, median_best = statistics.median(plain), statistics.median(optimised)
    print(f"{args.audience} deliveries, median of {args.turns}: plain {median_plain:.2f} s, at best hours "
          f"{median_best:.2f} s ({median_best / median_plain:.1f}x), {args.audience / median_best:,.0f} deliveries/s")
    print(describe(load_average=" ".join(f"{figure:.2f}" for figure in os.getloadavg())))
    return 0
