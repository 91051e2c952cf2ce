from aicmo_site.wording import with_article


def test_the_article_follows_the_first_letter():
    assert with_article("email sending") == "an email sending"
    assert with_article("Inbox reading") == "an Inbox reading"
    assert with_article("channel posting") == "a channel posting"
