"""The SMS editor in a real browser: its live segment count (static publishing/sms/counter.js) says what
the server's count (publishing.sms.segments) says for the same text, at a phone's width, axe-clean."""

import pytest

from publishing.sms.segments import sms_length
from tests.browser import PASSWORD, axe_violations, horizontal_overflow, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
TEXTS = [
    "Spring sale: 20% off",
    "a" * 152 + "€" + "a" * 152,  # the escape pair starts a third segment
    "Café ’deal’ " + "a" * 60,  # a curly quote makes it UCS-2
    "ï" * 66 + "😀" + "ï" * 66,  # the surrogate pair is not split
]


def test_the_editor_counts_segments_as_the_server_does(live_server, browser, make_user):
    make_user("mia", role="Marketer", password=PASSWORD)
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    log_in(page, live_server.url, "mia", "/sms/new/")
    for text in TEXTS:
        page.fill("#id_body", text)
        length = sms_length(text)
        shown = page.inner_text("#sms-count")
        unit = "characters" if length.encoding == "GSM-7" else "UCS-2 units"
        plural = "" if length.segments == 1 else "s"
        assert shown.startswith(f"{length.units} {unit} · {length.encoding} · {length.segments} segment{plural} "
                                f"({length.per_segment} per segment)"), (text[:20], shown)
    assert horizontal_overflow(page) <= 0
    assert axe_violations(page) == []
    context.close()
