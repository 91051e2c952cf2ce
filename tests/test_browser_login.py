import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_marketer_logs_in_and_sees_the_back_office(live_server, page, make_user):
    make_user("mira", role="Marketer", password="a-long-password-1")

    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url
    page.fill("#id_username", "mira")
    page.fill("#id_password", "a-long-password-1")
    page.click("button[type=submit]")

    page.wait_for_selector("text=Your roles: Marketer")
    assert page.locator("nav#sidebar").is_visible()  # the sections, a navigation landmark
    # The stylesheet came from the project itself: the top bar is styled.
    assert page.eval_on_selector(".topbar", "e => getComputedStyle(e).backgroundColor") == "rgb(17, 24, 39)"


def test_wrong_password_shows_a_form_error(live_server, page, make_user):
    make_user("rick", password="a-long-password-1")
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "rick")
    page.fill("#id_password", "wrong")
    page.click("button[type=submit]")
    assert page.locator("[role=alert]").inner_text().startswith("Your username and password didn't match")
