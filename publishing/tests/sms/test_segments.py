"""SMS segment counting as carriers bill it: GSM-7 160/153 with extension characters counted twice and
never split from their escape, UCS-2 70/67 with surrogate pairs kept together."""

import pytest

from publishing.sms.segments import sms_length


@pytest.mark.parametrize(("text", "encoding", "units", "segments"), [
    ("", "GSM-7", 0, 0),
    ("a" * 160, "GSM-7", 160, 1),
    ("a" * 161, "GSM-7", 161, 2),
    ("a" * 306, "GSM-7", 306, 2),
    ("a" * 307, "GSM-7", 307, 3),
    ("€" * 80, "GSM-7", 160, 1),
    ("€" * 81, "GSM-7", 162, 2),
    ("Ü? No: £5 @ Café", "GSM-7", 16, 1),
])
def test_gsm7_lengths(text, encoding, units, segments):
    length = sms_length(text)
    assert (length.encoding, length.units, length.segments) == (encoding, units, segments)


def test_gsm7_accented_letters_of_the_alphabet_stay_gsm7():
    length = sms_length("Café à Zürich, £5 @ 10:00 ¿Sì? ¡Ñandù! Å Ø Δ")
    assert length.encoding == "GSM-7" and length.non_gsm == ()


def test_an_extension_character_is_not_split_from_its_escape():
    # 152 plain characters leave one septet in the first 153-septet segment: the € (two) starts the second.
    length = sms_length("a" * 152 + "€" + "a" * 10)
    assert (length.units, length.segments, length.per_segment) == (164, 2, 153)
    assert sms_length("a" * 151 + "€" + "a" * 153).segments == 2
    assert sms_length("a" * 152 + "€" + "a" * 152).segments == 3


@pytest.mark.parametrize(("text", "units", "segments"), [
    ("ï" * 70, 70, 1),
    ("ï" * 71, 71, 2),
    ("ï" * 134, 134, 2),
    ("ï" * 135, 135, 3),
    ("Привет", 6, 1),
    ("😀" * 35, 70, 1),
    ("😀" * 36, 72, 2),
])
def test_ucs2_lengths(text, units, segments):
    length = sms_length(text)
    assert (length.encoding, length.units, length.segments) == ("UCS-2", units, segments)


def test_one_character_outside_gsm7_makes_the_whole_text_ucs2_and_is_named():
    length = sms_length("a" * 100 + "’")
    assert (length.encoding, length.segments, length.per_segment, length.non_gsm) == ("UCS-2", 2, 67, ("’",))


def test_a_surrogate_pair_is_never_split():
    # 66 units leave one in the first 67-unit segment: the emoji (two) goes to the second, so 134 units
    # take three segments where a plain count would say two.
    assert sms_length("ï" * 66 + "😀" + "ï" * 65).segments == 2
    assert sms_length("ï" * 66 + "😀" + "ï" * 66).segments == 3
