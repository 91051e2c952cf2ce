"""django-q2 entry points. They only wake the dispatcher: the database says what is due, so running
one twice, or two at once, publishes nothing twice."""

from publishing import dispatcher, schedules
from publishing.services import analysis, checks, metrics
from publishing.services.weather_holds import weather_holds_check


def dispatch_due() -> dict:
    """Publish whatever is due now (enqueued when a campaign starts or resumes)."""
    return dispatcher.dispatch_once()


def dispatch_loop(seconds: float | None = None) -> dict:
    """Scheduled every minute; keeps polling until the next run is on its way, so jobs start
    within a second. With `seconds`, polls that long only."""
    if seconds is not None:
        return dispatcher.dispatch_loop(seconds=seconds)
    return dispatcher.dispatch_loop(relieved=schedules.next_dispatch_queued())


def metrics_pull() -> int:
    """Snapshot the statistics of published posts on channels whose API offers them."""
    return metrics.metrics_pull()


def content_analyse(content_id: int) -> int:
    """Run the content's waiting analyses; analyses already done or claimed by another worker are left alone."""
    return analysis.content_analysis_run(content_id=content_id)


def content_links_check(content_id: int) -> int:
    """Check the content's links and store the outcome; the number of broken links."""
    report = checks.content_links_check_run(content_id=content_id)
    return sum(not item["ok"] for item in report.results) if report else 0


def weather_holds_check_task() -> dict:
    """Scheduled: posts held for the weather released when it comes, failed at their deadline."""
    return weather_holds_check()
