"""Composing one delivery's message: tracked links and the open pixel, exactly where they belong."""

from publishing.email.composing import add_open_pixel, hrefs_in, track_links, trackable_urls, tracking_url
from publishing.email.tokens import make_token

BODY = ('<html><body><a href="https://example.org/a?x=1&amp;y=2">A</a> '
        "<A class=\"b\" HREF = 'https://example.org/b'>B</A> <a href=\" https://example.org/a?x=1&amp;y=2 \">again</a> "
        '<a href="mailto:x@example.org">m</a> <a href="https://aicmo.example/u/tok">u</a> <a title="x">none</a> '
        '<a href="https://example.org/c">not in the table</a></body></html>')
LINK_IDS = {"https://example.org/a?x=1&y=2": 7, "https://example.org/b": 8}


def clicked(link_id: int) -> str:
    return tracking_url("t/c", make_token("click", 5, link_id))


def test_each_link_of_the_table_points_at_its_tracking_url_and_nothing_else_changes():
    expected = (f'<html><body><a href="{clicked(7)}">A</a> '
                f"<A class=\"b\" HREF = '{clicked(8)}'>B</A> <a href=\"{clicked(7)}\">again</a> "
                '<a href="mailto:x@example.org">m</a> <a href="https://aicmo.example/u/tok">u</a> '
                '<a title="x">none</a> <a href="https://example.org/c">not in the table</a></body></html>')

    assert track_links(BODY, delivery_id=5, link_ids=LINK_IDS) == expected
    assert track_links(BODY, delivery_id=5, link_ids=LINK_IDS, hrefs=hrefs_in(BODY)) == expected


def test_the_links_to_track_are_the_web_links_but_the_unsubscribe_link():
    assert trackable_urls(hrefs_in(BODY)) == {"https://example.org/a?x=1&y=2", "https://example.org/b", "https://example.org/c"}


def test_the_open_pixel_goes_just_before_the_first_end_of_body_or_at_the_end():
    pixel = (f'<img src="{tracking_url("t/o", make_token("open", 5))}" width="1" height="1" alt="" '
             'style="display:block;border:0;width:1px;height:1px">')
    assert add_open_pixel("<body>x</BODY >y</body>", 5) == f"<body>x{pixel}</BODY >y</body>"
    assert add_open_pixel("<p>x</p>", 5) == f"<p>x</p>{pixel}"
