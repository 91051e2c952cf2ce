from django.conf import settings


def test_retry_outlasts_timeout_so_no_task_runs_twice():
    cluster = settings.Q_CLUSTER
    assert cluster["retry"] >= cluster["timeout"] + 60
    assert 1 <= cluster["max_attempts"] <= 10


def test_orm_broker_is_default_without_redis_url():
    if settings.REDIS_URL:
        assert settings.Q_CLUSTER["redis"] == settings.REDIS_URL
    else:
        assert settings.Q_CLUSTER["orm"] == "default"


def test_a_worker_forgets_the_statements_logged_before_each_task():
    # With DEBUG on a connection logs up to 9,000 statements, forgotten only when a request starts.
    from django.db import connection
    from django_q.signals import post_execute, pre_execute

    connection.queries_log.append({"sql": "SELECT 1", "time": "0.000"})
    task = {"func": "aicmo_site.tasks.worker_echo"}
    try:
        pre_execute.send(sender="django_q", func=None, task=task)
        assert not connection.queries_log
    finally:
        post_execute.send(sender="django_q", task=task)
