import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import default_storage

from aicmo_site.env import database_from_url, env_bool, env_int, env_list, media_storage_from_url


def test_sqlite_url_relative_to_project(tmp_path):
    db = database_from_url("sqlite:///var/x.sqlite3", base_dir=tmp_path)
    assert db["ENGINE"] == "django.db.backends.sqlite3"
    assert db["NAME"] == str(tmp_path / "var/x.sqlite3")
    assert "journal_mode=WAL" in db["OPTIONS"]["init_command"]
    assert db["OPTIONS"]["timeout"] >= 5


def test_sqlite_url_absolute(tmp_path):
    db = database_from_url(f"sqlite:///{tmp_path}/data/db.sqlite3", base_dir=tmp_path / "elsewhere")
    assert db["NAME"] == f"{tmp_path}/data/db.sqlite3"
    assert (tmp_path / "data").is_dir()


def test_postgres_url_parts(tmp_path):
    db = database_from_url("postgres://mk:s%40cret@db.internal:6543/aicmo?sslmode=require", base_dir=tmp_path)
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["USER"], db["PASSWORD"], db["HOST"], db["PORT"], db["NAME"]) == (
        "mk", "s@cret", "db.internal", "6543", "aicmo"
    )
    assert db["OPTIONS"] == {"sslmode": "require"}


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("mysql://root@localhost/aicmo", "unsupported scheme 'mysql'"),
        ("postgres://localhost:5432/", "names no database"),
        ("postgres://localhost:port/aicmo", "port that is not a number"),
        ("sqlite://", "names no SQLite file"),
        ("not a url", "unsupported scheme"),
    ],
)
def test_bad_database_url_says_what_to_set(tmp_path, url, words):
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL") as error:
        database_from_url(url, base_dir=tmp_path)
    assert words in str(error.value)


def test_env_bool_refuses_nonsense(monkeypatch):
    monkeypatch.setenv("DEBUG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="DEBUG must be one of"):
        env_bool("DEBUG", False)
    monkeypatch.setenv("DEBUG", "off")
    assert env_bool("DEBUG", True) is False


def test_env_int_and_list(monkeypatch):
    monkeypatch.setenv("Q_WORKERS", "zero")
    with pytest.raises(ImproperlyConfigured, match="Q_WORKERS must be a whole number"):
        env_int("Q_WORKERS", 2)
    monkeypatch.setenv("Q_WORKERS", "0")
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        env_int("Q_WORKERS", 2, minimum=1)
    monkeypatch.setenv("ALLOWED_HOSTS", " a.example.com, ,b.example.com ")
    assert env_list("ALLOWED_HOSTS", []) == ["a.example.com", "b.example.com"]


def test_settings_module_fails_fast_on_bad_database_url(tmp_path):
    """Start-up itself (not the first query) refuses a wrong DATABASE_URL."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "DATABASE_URL": "mysql://nope", "DJANGO_SETTINGS_MODULE": "aicmo_site.settings.base"}
    result = subprocess.run([sys.executable, "manage.py", "check"], env=env, capture_output=True, text=True)
    assert result.returncode != 0
    assert "DATABASE_URL has an unsupported scheme 'mysql'" in result.stderr


def test_production_requires_secret_key():
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "FIELD_ENCRYPTION_KEY"}}
    env["DJANGO_SETTINGS_MODULE"] = "aicmo_site.settings.production"
    result = subprocess.run([sys.executable, "manage.py", "check"], env=env, capture_output=True, text=True)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_env_float(monkeypatch):
    from aicmo_site.env import env_float

    monkeypatch.setenv("GATEWAYS_HEALTH_EMA_ALPHA", "0.35")
    assert env_float("GATEWAYS_HEALTH_EMA_ALPHA", 0.2) == 0.35
    monkeypatch.setenv("GATEWAYS_HEALTH_EMA_ALPHA", "fast")
    with pytest.raises(ImproperlyConfigured, match="GATEWAYS_HEALTH_EMA_ALPHA must be a number"):
        env_float("GATEWAYS_HEALTH_EMA_ALPHA", 0.2)


def test_transaction_pooling_keeps_nothing_in_a_server_session():
    """Behind PgBouncer in transaction mode: no server-side cursors, no prepared statements, no session SET."""
    import json
    import os
    import subprocess
    import sys

    code = ("import django; django.setup(); from django.conf import settings; from publishing.email import conf; "
            "db = settings.DATABASES['default']; print(json.dumps([db.get('DISABLE_SERVER_SIDE_CURSORS', False), "
            "db['OPTIONS'].get('prepare_threshold', 5), conf.synchronous_commit()]))")
    # The suite itself may run behind PgBouncer (make test-pgbouncer): the direct case must not inherit it.
    inherited = {name: value for name, value in os.environ.items() if name != "DATABASE_TRANSACTION_POOLING"}
    base = {**inherited, "DJANGO_SETTINGS_MODULE": "aicmo_site.settings.base", "EMAIL_SYNCHRONOUS_COMMIT": "0",
            "DATABASE_URL": "postgres://aicmo@127.0.0.1:6432/aicmo"}
    pooled, direct = (json.loads(subprocess.run([sys.executable, "-c", f"import json; {code}"], check=True,
                                                 capture_output=True, text=True, env={**base, **extra}).stdout)
                      for extra in ({"DATABASE_TRANSACTION_POOLING": "1"}, {}))
    assert pooled == [True, None, True]
    assert direct == [False, 5, False]


def test_a_media_storage_url_names_the_bucket_its_prefix_and_server():
    storage = media_storage_from_url(
        "s3://brand-media/prod?endpoint_url=http://127.0.0.1:9000&region=eu-west-1&addressing_style=path",
        public_base_url="https://cdn.example.com/", signed_url_seconds=120)
    assert storage["BACKEND"] == "aicmo_site.bucket.MediaBucketStorage"
    assert storage["OPTIONS"] == {
        "bucket_name": "brand-media", "location": "prod", "endpoint_url": "http://127.0.0.1:9000",
        "region_name": "eu-west-1", "addressing_style": "path", "public_base_url": "https://cdn.example.com",
        "querystring_expire": 120, "signature_version": "s3v4"}


@pytest.mark.parametrize(("url", "says"), [
    ("/var/media", "must look like s3://BUCKET"),
    ("s3://?region=eu-west-1", "must look like s3://BUCKET"),
    ("s3://brand-media?secret=x", "unknown option 'secret'"),
])
def test_a_wrong_media_storage_url_stops_start_up_saying_what_to_set(url, says):
    with pytest.raises(ImproperlyConfigured, match=says):
        media_storage_from_url(url)


def test_renditions_are_public_at_the_cdn_and_originals_signed_for_minutes(make_media_bucket):
    make_media_bucket(public_base_url="https://cdn.example.com/media")
    assert default_storage.url("renditions/4/publish.jpg") == "https://cdn.example.com/media/renditions/4/publish.jpg"
    original = default_storage.url("assets/ab/abc.jpg")
    assert original.split("?")[0].endswith("/assets/ab/abc.jpg") and "X-Amz-Expires=300" in original
