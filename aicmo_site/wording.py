"""Small helpers for sentences built from labels, so generated text reads as a person would write it."""

_LETTERS_READ_WITH_A_VOWEL = "AEFHILMNORSX"


def with_article(phrase: str) -> str:
    """"a" or "an" before a phrase by its first letter: labels such as "Email sending" or "Inbox
    reading" are joined into sentences, and "a email sending account" reads as a mistake."""
    first = phrase.split(" ", 1)[0]
    # An acronym is read letter by letter: "an SMS", "an API", but "a CRM".
    sounds_like_a_vowel = first[:1] in _LETTERS_READ_WITH_A_VOWEL if first.isupper() else first[:1].lower() in "aeiou"
    return f"{'an' if sounds_like_a_vowel else 'a'} {phrase}"
