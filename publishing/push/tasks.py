"""django-q2 entry points of push sends: take ids, call services, safe to run twice."""

from publishing.push.choices import PushSendStatus
from publishing.push.models import PushSend
from publishing.push.services import push_send_work


def push_send_work_task(send_id: int) -> str:
    report = push_send_work(send_id=send_id)
    return f"accepted {report.accepted}, expired {report.expired}, failed {report.failed}, unknown {report.unknown}"


def push_wake_sends() -> int:
    """Resume sends under way whose deliveries wait out a push service's outage."""
    ids = list(PushSend.objects.filter(status=PushSendStatus.SENDING).values_list("pk", flat=True))
    for send_id in ids:
        push_send_work(send_id=send_id)
    return len(ids)
