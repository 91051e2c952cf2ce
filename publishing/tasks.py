"""django-q2 entry points. They only wake the dispatcher: the database says what is due, so running
one twice, or two at once, publishes nothing twice."""

from publishing import dispatcher
from publishing.services import metrics


def dispatch_due() -> dict:
    """Publish whatever is due now (enqueued when a campaign starts or resumes)."""
    return dispatcher.dispatch_once()


def dispatch_loop(seconds: float | None = None) -> dict:
    """Scheduled every minute; keeps polling for most of the minute so jobs start within a second."""
    return dispatcher.dispatch_loop(seconds=seconds)


def metrics_pull() -> int:
    """Snapshot the statistics of published posts on channels whose API offers them."""
    return metrics.metrics_pull()
