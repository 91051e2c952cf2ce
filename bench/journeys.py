"""Journeys at scale: N contacts entering a three-step journey (add a tag, wait 0, queue an email to an
aiosmtpd sink, then exit) and N due waits at once, run by the runner in this process.

Prints contact-steps per second for the internal steps and for the whole journey, the lag between a
wait falling due and its contact being taken, duplicates (steps logged twice for a contact, deliveries
twice for a contact: both must be 0), peak memory, and load average before and after. The baseline,
measured in turns with the runner, is the same tag added to the same contacts by crm's own set-based
INSERT … SELECT: the floor the runner's bookkeeping (claim, log, move) sits on.

    python -m bench journeys [--contacts 100000 | --million] [--batch 1000] [--sqlite PATH]
        [--database-url postgres://postgres@127.0.0.1:5432/aicmo_bench_journeys]

The database's CRM and automation tables are emptied first: do not point it at data you want to keep.
"""

import argparse
import os
import statistics
import sys
import time

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/aicmo_bench_journeys"


def _setup(args):
    if args.sqlite:
        os.environ["DATABASE_URL"] = f"sqlite:///{os.path.abspath(args.sqlite)}"
    else:
        from bench.crm_segments import _create_database

        os.environ["DATABASE_URL"] = args.database_url
        _create_database(args.database_url)
    from bench.conditions import setup_django

    setup_django()
    from django.conf import settings
    from django.core.management import call_command

    settings.DEBUG = False
    settings.PUBLIC_BASE_URL = settings.PUBLIC_BASE_URL or "https://aicmo.example"
    call_command("migrate", verbosity=0)


def _empty():
    from django.db import connection

    from automation.models import Journey, JourneyEnrolment, JourneyStepRun
    from crm.models import Contact, Tag
    from publishing.email.models import EmailDelivery

    if connection.vendor == "postgresql":
        # Deleting through the ORM collects every cascade in Python: minutes at 100,000 contacts.
        tables = [model._meta.db_table for model in (JourneyStepRun, JourneyEnrolment, EmailDelivery, Journey,
                                                      Contact.tags.through, Tag, Contact)]
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        return
    for model in (JourneyStepRun, JourneyEnrolment, EmailDelivery, Journey, Contact.tags.through, Tag):
        model.objects.all().delete()
    Contact.objects.all().delete()


def _contacts(count: int) -> None:
    from crm.models import Contact

    for start in range(0, count, 10_000):
        Contact.objects.bulk_create([Contact(email=f"p{n}@bench.example", domain="bench.example")
                                     for n in range(start, min(count, start + 10_000))])


def _journey(name: str, steps):
    from automation.services import journey_activate, journey_create

    return journey_activate(journey=journey_create(name=name, steps=steps))


def _run_all(batch: int) -> tuple[int, float]:
    from automation.services import journeys_run_due

    started = time.perf_counter()
    report = journeys_run_due(size=batch)
    return report.steps, time.perf_counter() - started


def _baseline(tag: str) -> float:
    from crm.models import Contact
    from crm.services import contacts_tag

    started = time.perf_counter()
    contacts_tag(contacts=Contact.objects.all(), tag_names=[tag])
    return time.perf_counter() - started


def main(argv):
    parser = argparse.ArgumentParser(prog="bench journeys", description=__doc__)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--million", action="store_true", help="1,000,000 contacts")
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2, help="turns of baseline and runner")
    parser.add_argument("--sqlite", help="a SQLite file to use instead of PostgreSQL")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    args = parser.parse_args(argv)
    count = 1_000_000 if args.million else args.contacts
    if count < 1 or args.batch < 1 or args.rounds < 1:
        print("--contacts, --batch and --rounds must be at least 1", file=sys.stderr)
        return 2
    _setup(args)
    from django.db import connection
    from django.db.models import Count
    from django.utils import timezone

    from automation.choices import EnrolmentStatus
    from automation.models import JourneyEnrolment, JourneyStepRun
    from automation.services import journey_enrol
    from bench.conditions import describe, peak_rss_mb
    from crm.models import Contact
    from gateways.testing.smtpserver import SmtpTestServer
    from publishing.email.models import EmailDelivery, EmailTemplate
    from publishing.tests.email.factories import HTML_BODY, smtp_account

    print(describe(contacts=count, batch=args.batch, load_before=os.getloadavg()))
    sink = SmtpTestServer().start()
    try:
        _empty()
        smtp_account(sink, name=f"bench-sink-{time.time_ns()}")
        template = EmailTemplate.objects.create(name="Bench welcome", subject="Hi", html_body=HTML_BODY)
        _contacts(count)
        internal, whole, baselines, lags = [], [], [], []
        for round_number in range(args.rounds):
            baselines.append(_baseline(f"baseline-{round_number}"))
            journey = _journey(f"Three steps {round_number}", [
                {"key": "tag", "kind": "add_tag", "config": {"tag": f"welcomed-{round_number}"}, "next": "pause"},
                {"key": "pause", "kind": "wait", "config": {"seconds": 0}, "next": "mail"},
                {"key": "mail", "kind": "send_email", "config": {"template_id": template.pk}, "next": "end"},
                {"key": "end", "kind": "exit"}])
            started = time.perf_counter()
            journey_enrol(journey=journey, contacts=Contact.objects.all(), source="bench")
            enrol_seconds = time.perf_counter() - started
            steps, seconds = _run_all(args.batch)
            per_kind = dict(JourneyStepRun.objects.filter(step__journey=journey).values_list("step__kind").annotate(
                n=Count("id")).order_by())
            whole.append(steps / seconds)
            print(f"round {round_number}: enrolled {count:,} in {enrol_seconds:.1f} s; {steps:,} contact-steps in "
                  f"{seconds:.1f} s = {steps / seconds:,.0f}/s; baseline tag of all: {baselines[-1]:.1f} s; "
                  f"steps by kind {per_kind}")

            # N due waits at once: everyone parked on an internal step, due now.
            waits = _journey(f"Due waits {round_number}", [
                {"key": "pause", "kind": "wait", "config": {"seconds": 0}, "next": "tag"},
                {"key": "tag", "kind": "add_tag", "config": {"tag": f"after-wait-{round_number}"}, "next": "end"},
                {"key": "end", "kind": "exit"}])
            journey_enrol(journey=waits, contacts=Contact.objects.all(), source="bench")
            due = timezone.now()
            tag_step = waits.steps.get(key="tag")
            JourneyEnrolment.objects.filter(journey=waits).update(step=tag_step, visit=1, due_at=due,
                                                                  status=EnrolmentStatus.WAITING)
            steps, seconds = _run_all(args.batch)
            internal.append(steps / seconds)
            ran = list(JourneyStepRun.objects.filter(step=tag_step).order_by("ran_at").values_list("ran_at", flat=True))
            lag = [(ran[0] - due).total_seconds(), (ran[len(ran) // 2] - due).total_seconds(),
                   (ran[-1] - due).total_seconds()]
            lags.append(lag[2])
            print(f"round {round_number}: {count:,} due waits ({steps:,} steps with the exits) run in "
                  f"{seconds:.1f} s = {steps / seconds:,.0f} internal contact-steps/s; "
                  f"lag first/median/last {lag[0]:.1f}/{lag[1]:.1f}/{lag[2]:.1f} s")
        duplicated_steps = (JourneyStepRun.objects.values("enrolment_id", "visit").annotate(n=Count("id"))
                            .filter(n__gt=1).count())
        duplicated_mail = (EmailDelivery.objects.values("campaign_id", "contact_id").annotate(n=Count("id"))
                           .filter(n__gt=1).count())
        queued = EmailDelivery.objects.count()
        print(f"summary ({connection.vendor}): internal {statistics.median(internal):,.0f} contact-steps/s, "
              f"three-step journey {statistics.median(whole):,.0f}/s (median of {args.rounds}); worst lag "
              f"{max(lags):.1f} s; baseline tag {statistics.median(baselines):.1f} s; deliveries queued {queued:,} "
              f"(expected {count * args.rounds:,}); duplicated steps {duplicated_steps}, duplicated deliveries "
              f"{duplicated_mail}; peak memory {peak_rss_mb():.0f} MB; load after {os.getloadavg()}")
        return 0 if duplicated_steps == duplicated_mail == 0 and queued == count * args.rounds else 1
    finally:
        sink.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
