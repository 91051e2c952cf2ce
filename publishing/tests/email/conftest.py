import pytest

WEBHOOK_SECRET = "whsec_dGVzdC1zZWNyZXQtMDEyMzQ1Njc4OWFiY2RlZg=="


@pytest.fixture(autouse=True)
def email_settings(settings):
    settings.PUBLIC_BASE_URL = "https://aicmo.example"
    settings.EMAIL_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.EMAIL_UNSUBSCRIBE_MAILTO = "unsubscribe@aicmo.example"
    settings.EMAIL_MESSAGE_ID_DOMAIN = "mail.aicmo.example"
    return settings
