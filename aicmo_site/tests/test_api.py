import io
import os
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient


@pytest.mark.django_db
def test_schema_is_openapi_3(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    import json

    document = json.loads(response.content)
    assert document["openapi"].startswith("3.")
    assert "/api/auth/token/" in document["paths"]


def test_schema_generates_without_warnings():
    """drf-spectacular's warnings (enum name collisions, duplicate operation IDs) become the deploy check's
    failures in production settings; the suite catches them first."""
    from django.core.management import call_command

    call_command("spectacular", "--fail-on-warn", "--validate", "--file", os.devnull)


@pytest.mark.django_db
def test_docs_page_serves_swagger_from_our_own_static_files(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn" not in html.lower()


@pytest.mark.django_db
def test_unauthenticated_call_gets_401_in_the_project_error_format(api_client):
    response = api_client.get("/api/auth/me/")
    assert response.status_code == 401
    assert response.json() == {
        "code": "not_authenticated",
        "message": "Authentication credentials were not provided.",
    }


@pytest.mark.django_db
def test_token_from_login_works_and_logout_revokes_it(api_client, make_user):
    make_user("maria", role="Marketer", password="correct-horse-1")
    response = api_client.post("/api/auth/token/", {"username": "maria", "password": "correct-horse-1"})
    assert response.status_code == 201
    token = response.json()["token"]

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = client.get("/api/auth/me/")
    assert me.status_code == 200
    assert me.json() == {"username": "maria", "roles": ["Marketer"]}

    assert client.post("/api/auth/logout/").status_code == 204
    assert client.get("/api/auth/me/").status_code == 401


@pytest.mark.django_db
def test_tokens_are_stored_hashed_and_expire(make_user):
    user = make_user("ana")
    instance, token = AuthToken.objects.create(user=user)
    assert token not in instance.digest and token[:8] not in instance.digest
    assert instance.expiry > timezone.now() + timedelta(days=29)

    instance.expiry = timezone.now() - timedelta(seconds=1)
    instance.save()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/auth/me/").status_code == 401


@pytest.mark.django_db
def test_wrong_password_gets_401_and_bad_input_gets_field_errors(api_client, make_user):
    make_user("tom", password="right-password-1")
    wrong = api_client.post("/api/auth/token/", {"username": "tom", "password": "nope"})
    assert wrong.status_code == 401
    assert wrong.json()["code"] == "invalid_credentials"

    missing = api_client.post("/api/auth/token/", {"username": "tom"})
    assert missing.status_code == 400
    assert missing.json()["code"] == "validation_error"
    assert missing.json()["fields"] == {"password": ["This field is required."]}


@pytest.mark.django_db
def test_repeated_failed_api_logins_lock_out_even_with_the_right_password(api_client, make_user, settings):
    make_user("eve", password="right-password-1")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        api_client.post("/api/auth/token/", {"username": "eve", "password": "guess"}, REMOTE_ADDR="203.0.113.9")
    locked = api_client.post(
        "/api/auth/token/", {"username": "eve", "password": "right-password-1"}, REMOTE_ADDR="203.0.113.9"
    )
    assert locked.status_code == 429
    assert locked.json()["code"] == "locked_out"
    other_address = api_client.post(
        "/api/auth/token/", {"username": "eve", "password": "right-password-1"}, REMOTE_ADDR="198.51.100.7"
    )
    assert other_address.status_code == 201


@pytest.mark.django_db
def test_lockout_counts_the_real_client_behind_the_configured_proxy(api_client, make_user, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    make_user("zed", password="right-password-1")
    for n in range(settings.AXES_FAILURE_LIMIT):
        # The left entry is forged by the client and changes every time; the proxy's entry does not.
        api_client.post(
            "/api/auth/token/", {"username": "zed", "password": "guess"},
            REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"1.2.3.{n}, 203.0.113.50",
        )
    locked = api_client.post(
        "/api/auth/token/", {"username": "zed", "password": "right-password-1"},
        REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="9.9.9.9, 203.0.113.50",
    )
    assert locked.status_code == 429


@pytest.mark.django_db
def test_login_page_locks_out_after_repeated_failures(client, make_user, settings):
    make_user("lee", password="right-password-1")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": "lee", "password": "guess"})
    response = client.post("/accounts/login/", {"username": "lee", "password": "right-password-1"})
    assert response.status_code == 429
    assert b"Too many failed log-ins" in response.content


@pytest.mark.django_db
def test_create_api_token_command(make_user):
    make_user("cli-user")
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_token", "cli-user", stdout=out, stderr=err)
    token = out.getvalue().strip()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/auth/me/").json()["username"] == "cli-user"


@pytest.mark.django_db
def test_create_api_token_for_unknown_user_fails_clearly():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No user named 'ghost'"):
        call_command("create_api_token", "ghost")


@pytest.mark.django_db
def test_roles_exist_after_migrate():
    assert set(Group.objects.values_list("name", flat=True)) >= {"Admin", "Marketer", "Approver", "Analyst"}
