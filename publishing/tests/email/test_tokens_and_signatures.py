import time

import pytest

from publishing.email import webhooks
from publishing.email.stats import Proportion, normal_cdf, normal_quantile, two_proportion_z_test
from publishing.email.tokens import TokenClaims, make_bounce_tag, make_token, read_bounce_tag, read_token

SECRET = "whsec_dGVzdC1zZWNyZXQtMDEyMzQ1Njc4OWFiY2RlZg=="


def test_tokens_round_trip_per_purpose():
    assert read_token("click", make_token("click", 42, 3)) == TokenClaims(42, 3)
    assert read_token("open", make_token("open", 42)) == TokenClaims(42)


def test_a_bounce_tag_names_its_delivery_in_any_case_and_cannot_be_made_for_another():
    tag = make_bounce_tag(42)
    assert len(f"bounces+{tag}") <= 64 and tag == tag.lower()  # RFC 5321 local part limit
    assert read_bounce_tag(tag) == read_bounce_tag(tag.upper()) == 42
    value, signature = tag.split("-")
    assert read_bounce_tag(f"{43:x}-{signature}") is None
    flipped = signature[:-1] + ("1" if signature[-1] == "0" else "0")
    assert read_bounce_tag(f"{value}-{flipped}") is None
    assert read_bounce_tag(make_token("open", 42)) is None
    assert read_bounce_tag("") is None and read_bounce_tag("zz-") is None


def test_a_token_of_one_purpose_is_refused_for_another():
    assert read_token("unsubscribe", make_token("open", 42)) is None
    assert read_token("click", make_token("open", 42)) is None


def test_altering_the_delivery_in_a_token_breaks_it():
    token = make_token("click", 42, 3)
    value, signature = token.split(".")
    assert read_token("click", f"2b-3.{signature}") is None  # someone else's delivery, same signature
    assert read_token("click", token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert read_token("click", "garbage") is None


def test_standard_webhooks_test_vector():
    assert webhooks.sign(secret=SECRET, msg_id="msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp=1614265330,
                         body=b'{"test": 2432232314}') == "v1,yEhS0TQGJIHw9Jb7QfhKleNBoJI3sZwmjMTjm3Awx94="


def _headers(body: bytes, *, secret=SECRET, timestamp=None, msg_id="msg_1"):
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {"webhook-id": msg_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": webhooks.sign(secret=secret, msg_id=msg_id, timestamp=timestamp, body=body)}


def test_verify_accepts_a_rotated_list_of_signatures():
    body = b'{"type": "email.bounced"}'
    headers = _headers(body)
    headers["webhook-signature"] = "v1,bm90IGl0 " + headers["webhook-signature"]
    assert webhooks.verify(secret=SECRET, headers=headers, body=body) == "msg_1"


@pytest.mark.parametrize("tamper", ["flipped_byte", "wrong_secret", "old", "future", "missing"])
def test_verify_refuses_tampered_stale_or_unsigned_events(tamper):
    body = b'{"type": "email.bounced"}'
    now = time.time()
    headers = _headers(body)
    if tamper == "flipped_byte":
        body = b'{"type": "email.bouncee"}'
    elif tamper == "wrong_secret":
        headers = _headers(body, secret="whsec_b3RoZXItc2VjcmV0LW9mLWVub3VnaC1sZW5ndGg=")
    elif tamper == "old":
        headers = _headers(body, timestamp=int(now) - 301)
    elif tamper == "future":
        headers = _headers(body, timestamp=int(now) + 301)
    else:
        headers.pop("webhook-signature")
    with pytest.raises(webhooks.SignatureInvalid):
        webhooks.verify(secret=SECRET, headers=headers, body=body, now=now)


def test_normal_distribution_functions():
    assert normal_cdf(0) == pytest.approx(0.5)
    assert normal_cdf(1.959963985) == pytest.approx(0.975, abs=1e-9)
    assert normal_quantile(0.975) == pytest.approx(1.959963985, abs=1e-6)


def test_two_proportion_z_test_matches_the_textbook_figures():
    z, p = two_proportion_z_test(Proportion(120, 1000), Proportion(90, 1000))
    assert z == pytest.approx(2.18827, abs=1e-4)
    assert p == pytest.approx(0.02865, abs=1e-4)
    assert two_proportion_z_test(Proportion(0, 0), Proportion(1, 10)) == (0.0, 1.0)


def test_wilson_interval():
    low, high = Proportion(120, 1000).wilson_interval(0.95)
    assert (round(low, 4), round(high, 4)) == (0.1013, 0.1416)


def test_tokens_are_what_djangos_signer_makes_and_follow_the_secret_key(settings):
    from django.core import signing

    from publishing.email.tokens import make_token, read_token

    for purpose, salt, link in (("open", "aicmo.email.open", None), ("click", "aicmo.email.click", 7),
                                ("unsubscribe", "aicmo.email.unsubscribe", None)):
        value = "2a" if link is None else "2a-7"
        assert make_token(purpose, 42, link) == signing.Signer(salt=salt, sep=".").sign(value)
    before = make_token("open", 42)
    settings.SECRET_KEY = "another-" + "k" * 50
    assert make_token("open", 42) != before and read_token("open", make_token("open", 42)).delivery_id == 42
