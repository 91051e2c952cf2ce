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
