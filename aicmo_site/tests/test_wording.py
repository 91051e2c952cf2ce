from aicmo_site.wording import with_article


def test_the_article_follows_the_first_letter():
    assert with_article("email sending") == "an email sending"
    assert with_article("Inbox reading") == "an Inbox reading"
    assert with_article("channel posting") == "a channel posting"


def test_an_acronym_takes_the_article_of_its_first_letter_read_aloud():
    assert with_article("SMS sending") == "an SMS sending"
    assert with_article("CRM sync") == "a CRM sync"
