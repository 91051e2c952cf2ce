import pytest


@pytest.mark.django_db
def test_overview_requires_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_overview_shows_sections_roles_and_system_health(client, make_user):
    user = make_user("mia", role="Marketer")
    client.force_login(user)
    response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Your roles: Marketer" in html
    for section in ("Contacts", "Publishing", "Media", "Analytics", "Providers"):
        assert section in html
    assert 'id="system-health"' in html


@pytest.mark.django_db
def test_admin_is_branded_aicmo(admin_client):
    response = admin_client.get("/admin/")
    assert response.status_code == 200
    assert b"AICMO administration" in response.content


@pytest.mark.django_db
def test_static_files_are_served_by_the_project(live_server):
    import requests

    response = requests.get(f"{live_server.url}/static/aicmo/app.css", timeout=10)
    assert response.status_code == 200
    assert "--accent" in response.text


@pytest.mark.django_db
def test_only_the_most_specific_navigation_link_is_active(client, make_user):
    client.force_login(make_user("nav", role="Marketer"))
    html = client.get("/contacts/segments/").content.decode()
    active = [line for line in html.splitlines() if 'class="active"' in line]
    assert len(active) == 1 and "Segments" in active[0]


@pytest.mark.django_db
def test_not_found_uses_the_back_office_layout_with_a_way_back(client, make_user):
    client.force_login(make_user("mia", role="Marketer"))
    response = client.get("/contacts/999999/", HTTP_REFERER="http://testserver/contacts/")
    html = response.content.decode()
    assert response.status_code == 404
    assert 'id="sidebar"' in html and "Page not found" in html
    assert 'href="http://testserver/contacts/"' in html and "Go to the overview" in html


@pytest.mark.django_db
def test_forbidden_page_names_the_roles_and_keeps_the_layout(client, make_user):
    client.force_login(make_user("ana", role="Analyst"))
    response = client.get("/contacts/imports/1/mapping/", HTTP_REFERER="https://elsewhere.example/")
    html = response.content.decode()
    assert response.status_code == 403
    assert "You cannot open this page" in html and "yours: Analyst" in html and 'id="sidebar"' in html
    assert "elsewhere.example" not in html  # a way back only to this site


@pytest.mark.django_db
def test_server_error_page_uses_the_layout_and_falls_back_when_that_fails(rf, make_user, monkeypatch):
    from aicmo_site import views

    request = rf.get("/contacts/")
    request.user = make_user("mia", role="Marketer")
    response = views.error_500(request)
    assert response.status_code == 500 and b'id="sidebar"' in response.content

    def broken(*args, **kwargs):
        raise RuntimeError("database is down")

    monkeypatch.setattr(views, "render", broken)
    response = views.error_500(request)
    assert response.status_code == 500 and b"Back to the overview" in response.content


@pytest.mark.django_db
def test_every_page_has_a_skip_link_and_a_menu_button(client, make_user):
    client.force_login(make_user("mia", role="Marketer"))
    html = client.get("/contacts/").content.decode()
    assert '<a class="skip-link" href="#main">' in html and '<main id="main"' in html
    assert 'aria-controls="sidebar" aria-expanded="false"' in html
