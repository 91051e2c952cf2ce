import pytest

WEBHOOK_SECRET = "whsec_dGVzdC1zZWNyZXQtMDEyMzQ1Njc4OWFiY2RlZg=="


@pytest.fixture(autouse=True)
def email_settings(settings):
    settings.PUBLIC_BASE_URL = "https://aicmo.example"
    settings.EMAIL_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.EMAIL_UNSUBSCRIBE_MAILTO = "unsubscribe@aicmo.example"
    settings.EMAIL_MESSAGE_ID_DOMAIN = "mail.aicmo.example"
    return settings


@pytest.fixture
def logged_in(client, make_user):
    """The test client logged in to the back office as a new user of the given role."""
    def login(role):
        client.force_login(make_user(f"user-{role.lower()}", role=role))
        return client

    return login
