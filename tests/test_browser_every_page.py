"""Every back-office page, as an administrator and as a marketer, on the demo data, at a laptop's width
and a phone's (390 x 844): nothing wider than the screen, no axe-core violation, and no link that
leads to a page the person may not open (people see only what they may use)."""

import io
import re
from urllib.parse import urldefrag, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command

from publishing.email.choices import SendStatus
from publishing.email.models import EmailCampaign
from tests.browser import AXE, PASSWORD, axe_violations, horizontal_overflow

pytestmark = pytest.mark.browser

# Not back-office pages: the Django admin and API docs (their own look), public pages reached from
# emails and feeds, uploaded files, and the log-out form.
OUTSIDE = re.compile(r"^/(admin|api|static|accounts|feeds|t|u|healthz|publishing/p|publishing/feeds)(/|$)"
                     r"|^/media/(?!library/)|^/email/events")
MOST_PAGES = 150
WIDTHS = ({"width": 1280, "height": 900}, {"width": 390, "height": 844})


# The builders a writer reaches from the overview by links alone (each is a separate kind of page).
WRITERS_REACH = {"/publishing/campaigns/new/", "/publishing/campaigns/N/edit/", "/publishing/campaigns/N/review/",
                 "/email/campaigns/new/"}
ADMINS_REACH = WRITERS_REACH | {"/providers/new/", "/providers/new/A/", "/providers/N/edit/"}


def _shape(path: str) -> str:
    """One page per kind: /contacts/12/ and /contacts/13/ are the same page with other data."""
    path = re.sub(r"/\d+(?=/|$)", "/N", path)
    # Every adapter's form is one template with other fields.
    return re.sub(r"^/providers/new/[\w-]+/$", "/providers/new/A/", path)


def _links(page) -> list[str]:
    return page.eval_on_selector_all("a[href]", "els => els.map(a => a.href)")


def _crawl(page, base: str, check=None) -> tuple[list[str], list[str]]:
    """Visits the back office breadth first from the overview; returns the pages seen and any link
    that answered 403 (a way offered that the person may not take). `check(path)` is called on each
    page as it is visited, so a page checked at this width is not loaded a second time."""
    queue, seen_shapes, pages, forbidden = [("/", "")], {"/"}, [], []
    while queue and len(pages) < MOST_PAGES:
        path, linked_from = queue.pop(0)
        response = page.request.get(base + path, max_redirects=0)
        if response.status == 403:
            forbidden.append(f"{path} (linked from {linked_from})")
            continue
        assert response.status < 400, f"{path}, linked from {linked_from}, answered {response.status}"
        if response.status >= 300 or "text/html" not in response.headers.get("content-type", ""):
            continue  # a download or a redirect elsewhere, not a page
        page.goto(base + path)
        pages.append(path)
        for href in _links(page):
            url = urlsplit(urldefrag(href)[0])
            if url.netloc != urlsplit(base).netloc or OUTSIDE.search(url.path):
                continue
            if _shape(url.path) not in seen_shapes:
                seen_shapes.add(_shape(url.path))
                queue.append((url.path, path))
        if check:
            check(path)
    return pages, forbidden


def _log_in(page, base: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", "visitor")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo, seeded once for the module (a seed is most of a test's time) and shared by its tests:
    each only reads it (the crawls load pages; the forms are sent with their problems or stop at a
    confirmation), so none sees another's changes. What they leave is the trace of their visitor (a
    session, an access log, audit entries) and the site's push keys, made when a page first needs them.
    Flushed after the last test, as the database of a transactional test is after each."""
    with django_db_blocker.unblock():
        call_command("seed_demo", stdout=io.StringIO())
        yield
        call_command("flush", interactive=False, verbosity=0, reset_sequences=False)


@pytest.fixture
def transactional_db(demo):
    """pytest-django's live server gives a test `transactional_db`, an empty database flushed after the
    test; in this module it is the shared demo."""


@pytest.fixture
def visitor():
    """Makes the user who crawls, with a role; removed after the test (the demo stays as it was)."""
    made = []

    def make(role: str, **extra):
        user = get_user_model().objects.create_user("visitor", password=PASSWORD, **extra)
        user.groups.add(Group.objects.get(name=role))
        made.append(user)

    yield make
    for user in made:
        user.delete()


@pytest.mark.parametrize("role", ["Admin", "Marketer"])
def test_every_page_fits_the_screen_and_passes_axe(live_server, browser, visitor, role):
    assert AXE.exists(), "axe-core is missing: run `make install` (copies it into static/vendor)."
    extra = {"is_staff": True, "is_superuser": True} if role == "Admin" else {}
    visitor(role, **extra)
    problems = []
    pages = None
    for viewport in WIDTHS:
        context = browser.new_context(viewport=viewport)
        page = context.new_page()
        page.set_default_timeout(15000)
        _log_in(page, live_server.url)

        def check(path: str, page=page, width=viewport["width"]) -> None:
            page.wait_for_load_state("load")
            overflow = horizontal_overflow(page)
            if overflow > 0:
                problems.append(f"{width} px {path}: {overflow} px wider than the screen")
            problems.extend(f"{width} px {path}: {v}" for v in axe_violations(page))

        if pages is None:
            pages, forbidden = _crawl(page, live_server.url, check)
            problems.extend(f"link to a forbidden page: {path}" for path in forbidden)
        else:
            for path in pages:
                page.goto(live_server.url + path)
                check(path)
        context.close()
    assert len(pages) > 20, pages
    reached = {_shape(path) for path in pages}
    assert not (ADMINS_REACH if role == "Admin" else WRITERS_REACH) - reached, sorted(reached)
    assert not problems, "\n".join(problems)


def test_pages_reached_by_a_form_fit_the_phone_and_pass_axe(live_server, browser, visitor):
    """The crawl follows links only: a confirmation, a builder showing its problems and a send asking
    "send now?" are reached by submitting forms, here at a phone's width."""
    visitor("Marketer")
    context = browser.new_context(viewport=WIDTHS[1])
    page = context.new_page()
    page.set_default_timeout(15000)
    _log_in(page, live_server.url)
    problems = []

    def check(what: str) -> None:
        overflow = horizontal_overflow(page)
        if overflow > 0:
            problems.append(f"{what}: {overflow} px wider than the screen")
        problems.extend(f"{what}: {violation}" for violation in axe_violations(page))

    page.goto(f"{live_server.url}/contacts/")
    page.locator("#contacts input[name=contact]").first.check()
    page.select_option("#bulk-action", "delete")
    page.click("#bulk-apply")
    page.wait_for_selector("#bulk-confirm")
    check("the contacts' bulk delete confirmation")
    for path, form in (("/publishing/campaigns/new/", "#campaign-builder"), ("/email/campaigns/new/", "#send-builder")):
        page.goto(live_server.url + path)
        page.eval_on_selector(form, "form => { form.noValidate = true; }")  # the server's own checks
        page.click(f"{form} button[type=submit]")
        page.wait_for_selector(f"{form} .error")
        check(f"{path} with its problems named")
    draft = EmailCampaign.objects.filter(status=SendStatus.DRAFT).first()
    page.goto(f"{live_server.url}/email/campaigns/{draft.campaign_id}/?confirm=send")
    page.wait_for_selector("input[name=confirmed]", state="attached")
    check("a send asking to be confirmed")
    context.close()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("role", ["Analyst", "Approver"])
def test_readers_are_offered_no_link_they_may_not_follow(live_server, page, visitor, role):
    visitor(role)
    _log_in(page, live_server.url)
    pages, forbidden = _crawl(page, live_server.url)
    assert len(pages) > 20, pages
    assert not forbidden, forbidden
