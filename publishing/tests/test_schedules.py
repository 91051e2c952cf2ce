import pytest
from django.core.management import call_command
from django_q.models import Schedule

pytestmark = pytest.mark.django_db


def test_setup_schedules_writes_the_dispatcher_and_metrics_schedules_once():
    call_command("setup_schedules")
    call_command("setup_schedules")
    dispatch = Schedule.objects.get(name="publishing: dispatch due posts")
    assert (dispatch.func, dispatch.schedule_type, dispatch.minutes) == ("publishing.tasks.dispatch_loop", "I", 1)
    assert Schedule.objects.filter(func="publishing.tasks.metrics_pull").count() == 1
