"""Small helpers for sentences built from labels, so generated text reads as a person would write it."""


def with_article(phrase: str) -> str:
    """"a" or "an" before a phrase by its first letter: labels such as "Email sending" or "Inbox
    reading" are joined into sentences, and "a email sending account" reads as a mistake."""
    return f"{'an' if phrase[:1].lower() in 'aeiou' else 'a'} {phrase}"
