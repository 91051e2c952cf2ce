import pytest
from django_q.models import Task

from aicmo_site.tasks import worker_echo_enqueue
from aicmo_site.testing.worker import wait_for


@pytest.mark.worker
def test_task_enqueued_by_project_code_runs_in_a_real_qcluster(qcluster):
    task_id = worker_echo_enqueue("round-trip")
    cluster = qcluster()

    task = wait_for(lambda: Task.objects.filter(id=task_id).first(), timeout=60, message="the task result")

    assert task.success, cluster.output()
    assert task.result["value"] == "round-trip"
    assert task.result["pid"] != __import__("os").getpid()
