"""manage.py classify_mail: what support staff run on a saved message."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from gateways.testing.corpus import CORPUS, corpus_path


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("classify_mail", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_json_lines_give_each_files_kind_recipients_class_status_and_reason():
    paths = [str(corpus_path(name)) for name in CORPUS]
    out, _err = run("--json", *paths)
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["file"] for line in lines] == paths
    for line, expected in zip(lines, CORPUS.values(), strict=True):
        assert set(line) == {"file", "kind", "recipients", "class", "status", "reason"}
        assert (line["kind"], tuple(line["recipients"]), line["class"], line["status"]) == (
            expected.kind, expected.recipients, expected.bounce_class, expected.status)
    assert lines[0]["reason"] == "550 5.1.1 <gone@example.org>: Recipient address rejected: User unknown"


def test_plain_output_is_one_tab_separated_line_a_file():
    out, _err = run(str(corpus_path("rfc3464_mailbox_full.eml")))
    assert out.split("\t")[1:] == ["bounce", "full@example.org", "soft", "5.2.2",
                                   "552 5.2.2 <full@example.org>: Mailbox full\n"]


def test_an_unreadable_file_is_named_the_others_still_classified_and_the_exit_is_non_zero(tmp_path):
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError, match="1 of 2 files could not be read"):
        call_command("classify_mail", str(tmp_path / "missing.eml"), str(corpus_path("qmail.eml")), "--json",
                     stdout=out, stderr=err)
    assert "missing.eml: cannot be read: No such file or directory" in err.getvalue()
    assert json.loads(out.getvalue())["kind"] == "bounce"
