"""Provider accounts from the back office (Admins only): a form per adapter with only its fields,
write-only secrets, placeholders said to send nothing, advice on the next step, Test and Disable."""

import pytest

from gateways import crypto
from gateways.capabilities import Capability
from gateways.health import account_status
from gateways.models import HealthStatus, ProviderAccount, ProviderHealth
from gateways.readiness import account_readiness, capability_readiness
from gateways.services import account_create
from gateways.testing.slack import BOT_TOKEN, CHANNEL, SlackWorkspace
from gateways.tests.factories import ProviderAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(login):
    return login("Admin")


def test_the_smtp_form_asks_only_for_what_smtp_reads(admin):
    html = admin.get("/providers/new/smtp/").content.decode()

    for setting in ("host", "port", "security", "from_email", "return_path"):
        assert f'name="setting__{setting}"' in html
    for secret in ("username", "password"):
        assert f'name="secret__{secret}"' in html
    assert 'name="secret__api_key"' not in html and 'name="setting__base_id"' not in html
    assert 'name="base_url"' not in html, "SMTP has no base URL"
    assert 'type="password"' in html and "From address" in html


def test_an_admin_adds_an_account_and_its_secret_is_stored_encrypted(admin):
    response = admin.post("/providers/new/smtp/", {
        "name": "Mailhost", "priority": "10", "enabled": "on", "timeout_seconds": "5",
        "setting__host": "mail.example.com", "setting__port": "587", "setting__security": "starttls",
        "setting__from_email": "news@example.com", "secret__username": "news", "secret__password": "s3cret-pw",
    })

    account = ProviderAccount.objects.get(name="Mailhost")
    assert response.status_code == 302 and response["Location"] == f"/providers/{account.pk}/edit/"
    assert (account.capability, account.adapter, account.priority) == (Capability.EMAIL_SENDING, "smtp", 10)
    assert account.settings == {"host": "mail.example.com", "port": "587", "security": "starttls",
                                "from_email": "news@example.com"}
    assert crypto.decrypt_json(account.credentials_encrypted) == {"username": "news", "password": "s3cret-pw"}
    assert ProviderHealth.objects.filter(pk=account.pk).exists()


def test_secrets_are_never_shown_back_and_a_blank_one_keeps_the_stored_value(admin):
    account = ProviderAccountFactory(name="apollo", capability=Capability.LEAD_ENRICHMENT, adapter="apollo",
                                     credentials={"api_key": "key-1234567890"})

    html = admin.get(f"/providers/{account.pk}/edit/").content.decode()
    admin.post(f"/providers/{account.pk}/edit/", {"name": "apollo", "priority": "5", "enabled": "on",
                                                  "timeout_seconds": "10", "secret__api_key": ""})

    assert "key-1234567890" not in html and "Set: leave blank to keep it." in html
    account.refresh_from_db()
    assert account.priority == 5
    assert crypto.decrypt_json(account.credentials_encrypted) == {"api_key": "key-1234567890"}


def test_a_refused_value_is_shown_on_its_field(admin):
    ProviderAccountFactory(name="taken")

    response = admin.post("/providers/new/apollo/", {"name": "taken", "priority": "1", "timeout_seconds": "10",
                                                     "rate_limit_count": "5"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "already exists" in html and "Set both the request count and the period" in html
    assert ProviderAccount.objects.filter(adapter="apollo").count() == 0


def test_the_chooser_marks_placeholders_and_manual_channels(admin):
    html = admin.get("/providers/new/", {"capability": "email_sending"}).content.decode()
    channels = admin.get("/providers/new/", {"capability": "channel_posting"}).content.decode()

    assert 'href="/providers/new/smtp/"' in html
    assert "Placeholder: sends nothing" in html and 'data-adapter="noop_email_sending"' in html
    assert html.index('data-adapter="smtp"') < html.index('data-adapter="noop_email_sending"'), "real ones first"
    assert "Lead enrichment" not in html
    assert "Manual: a person publishes each draft" in channels
    assert admin.get("/providers/new/", {"capability": "nonsense"}).status_code == 404
    assert admin.get("/providers/new/not-an-adapter/").status_code == 404


def test_a_placeholder_says_it_sends_nothing_and_where_to_add_a_real_one(admin):
    account = ProviderAccountFactory(name="no sending", capability=Capability.EMAIL_SENDING,
                                     adapter="noop_email_sending")

    html = admin.get(f"/providers/{account.pk}/edit/").content.decode()

    assert "Placeholder: sends nothing" in html
    assert '<a href="/providers/new/?capability=email_sending">Add a real email sending account</a>' in html
    assert 'name="timeout_seconds"' not in html, "a placeholder calls no one"


def test_a_new_account_is_advised_to_be_tested_and_the_test_says_how_it_went(admin, fake_providers):
    account = ProviderAccountFactory(name="enricher")
    edit = f"/providers/{account.pk}/edit/"

    before = admin.get(edit).content.decode()
    after = admin.post(f"/providers/{account.pk}/probe/", {"next": edit}, follow=True)

    assert "Not called yet. Next: test it" in before
    assert after.redirect_chain[-1][0] == edit
    text = after.content.decode()
    assert "enricher answers: enricher answers" in text and "Healthy: lead enrichment work goes through it." in text


def test_an_account_that_cannot_be_probed_is_said_to_be_not_probed(admin):
    account = ProviderAccountFactory(name="team chat", capability=Capability.CHANNEL_POSTING, adapter="slack",
                                     credentials={"webhook_url": "https://hooks.slack.com/services/T/B/x"})

    text = admin.post(f"/providers/{account.pk}/probe/", {"next": f"/providers/{account.pk}/edit/"},
                      follow=True).content.decode()

    assert "team chat is not probed — not probed: checking it would do real work" in text
    assert "Healthy" not in text and ProviderHealth.objects.get(pk=account.pk).calls == 0


def test_slack_webhooks_say_a_post_may_need_checking_and_recommend_the_bot_token(admin):
    chooser = admin.get("/providers/new/", {"capability": "channel_posting"}).content.decode()
    webhook = admin.get("/providers/new/slack/").content.decode()
    bot = admin.get("/providers/new/slack_bot/").content.decode()

    assert 'data-adapter="slack_bot"' in chooser and "Prefer Slack (bot token)" in chooser
    assert 'id="adapter-limits"' in webhook and "a post may need checking by hand" in webhook
    assert 'id="adapter-limits"' not in bot
    assert "<h1>New Slack (bot token) account</h1>" in bot, "the page reads the adapter class, never calls it"
    assert 'name="setting__channel_id"' in bot and 'name="secret__bot_token"' in bot and "channels:history" in bot


def test_a_slack_bot_account_is_probed_for_real(admin, httpserver):
    workspace = SlackWorkspace()
    account = account_create(capability=Capability.CHANNEL_POSTING, adapter="slack_bot", name="team bot",
                             base_url=workspace.serve(httpserver), settings={"channel_id": CHANNEL},
                             credentials={"bot_token": BOT_TOKEN})

    text = admin.post(f"/providers/{account.pk}/probe/", {"next": f"/providers/{account.pk}/edit/"},
                      follow=True).content.decode()

    assert "signed in as aicmo_bot in AICMO test" in text and "not probed" not in text
    account = ProviderAccount.objects.select_related("health").get(pk=account.pk)
    assert account_status(account) == HealthStatus.HEALTHY and account_readiness(account).ready
    assert [request.path for request, _ in httpserver.log] == ["/api/auth.test"]


def test_disable_and_enable(admin):
    account = ProviderAccountFactory(name="enricher")

    disabled = admin.post(f"/providers/{account.pk}/enabled/", {"enabled": "no"}, follow=True).content.decode()
    account.refresh_from_db()
    assert not account.enabled and "enricher disabled." in disabled
    assert "Disabled: no work goes to it." in disabled and 'id="enable"' in disabled

    admin.post(f"/providers/{account.pk}/enabled/", {"enabled": "yes"})
    account.refresh_from_db()
    assert account.enabled


def test_readiness_sends_people_to_the_back_office_not_the_admin():
    disabled = ProviderAccountFactory(name="off", enabled=False)

    assert capability_readiness(Capability.EMAIL_SENDING).fix_url == "/providers/new/?capability=email_sending"
    assert account_readiness(disabled).fix_url == f"/providers/{disabled.pk}/edit/"


@pytest.mark.parametrize("role", ["Marketer", "Approver", "Analyst"])
def test_only_admins_manage_providers(login, role):
    account = ProviderAccountFactory(name="enricher")
    client = login(role)

    for url in ("/providers/new/", "/providers/new/smtp/", f"/providers/{account.pk}/edit/"):
        assert client.get(url).status_code == 403, url
    for url in (f"/providers/{account.pk}/enabled/", f"/providers/{account.pk}/probe/"):
        assert client.post(url, {"enabled": "no"}).status_code == 403, url
    assert client.post("/providers/new/smtp/", {"name": "sneaky"}).status_code == 403
    health = client.get("/providers/").content.decode()
    assert "Add a provider account" not in health and "/edit/" not in health and ">Test</button>" not in health
    account.refresh_from_db()
    assert account.enabled and not ProviderAccount.objects.filter(name="sneaky").exists()


def test_admins_see_the_ways_in_on_the_health_page(admin):
    account = ProviderAccountFactory(name="enricher")

    html = admin.get("/providers/").content.decode()

    assert 'href="/providers/new/"' in html and f'href="/providers/{account.pk}/edit/"' in html
    assert ">Test</button>" in html


def test_edit_page_query_count_is_fixed(admin, django_assert_num_queries):
    account = ProviderAccountFactory(name="enricher")
    admin.get(f"/providers/{account.pk}/edit/")
    with django_assert_num_queries(8) as counted:  # 8th: the change history
        admin.get(f"/providers/{account.pk}/edit/")
    for n in range(5):
        ProviderAccountFactory(name=f"other-{n}")
    with django_assert_num_queries(len(counted.captured_queries)):
        admin.get(f"/providers/{account.pk}/edit/")


def test_chooser_query_count_is_fixed(admin, django_assert_num_queries):
    admin.get("/providers/new/")
    with django_assert_num_queries(6) as counted:
        admin.get("/providers/new/")
    for n in range(5):
        ProviderAccountFactory(name=f"other-{n}")
    with django_assert_num_queries(len(counted.captured_queries)):
        admin.get("/providers/new/")


def test_disabling_an_account_whose_stored_settings_are_refused_says_why(admin):
    account = ProviderAccountFactory(name="enricher")
    ProviderAccount.objects.filter(pk=account.pk).update(settings={"retired_option": "1"})

    text = admin.post(f"/providers/{account.pk}/enabled/", {"enabled": "no"}, follow=True).content.decode()

    assert "enricher was not changed: Unknown parameters for" in text
    account.refresh_from_db()
    assert account.enabled


def test_readiness_advice_uses_the_right_article():
    missing = capability_readiness(Capability.EMAIL_SENDING).reason
    assert missing == "No email sending provider is configured. Add an email sending account in Provider accounts."
    ProviderAccountFactory(capability=Capability.CRM_SYNC, adapter="noop_crm_sync", name="Nothing")
    assert "Add a CRM sync account" in capability_readiness(Capability.CRM_SYNC).reason
    assert "a email" not in missing and "a inbox" not in capability_readiness(Capability.INBOX_READING).reason
