"""django-q2 entry points of SMS sends: take ids, call services, safe to run twice."""

from publishing.sms.choices import SmsSendStatus
from publishing.sms.models import SmsSend
from publishing.sms.services import sms_send_work


def sms_send_work_task(send_id: int) -> str:
    report = sms_send_work(send_id=send_id)
    return f"accepted {report.accepted}, failed {report.failed}, deferred {report.deferred}: {report.stopped_because}"


def sms_wake_sends() -> int:
    """Resume every send under way: deliveries deferred by quiet hours or an outage fall due, and a worker
    that stopped leaves its marks to be reconciled."""
    ids = list(SmsSend.objects.filter(status=SmsSendStatus.SENDING).values_list("pk", flat=True))
    for send_id in ids:
        sms_send_work(send_id=send_id)
    return len(ids)
