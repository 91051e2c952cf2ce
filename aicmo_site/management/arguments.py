"""Argument types for management commands: the same bounds as the API's (aicmo_site.bounds), checked
by argparse, so a command refuses a value the database cannot hold with a usage error, not a traceback."""

import argparse

from aicmo_site.bounds import DB_INTEGER_MAX


def stored_id(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an id (a whole number)")
    if not 1 <= number <= DB_INTEGER_MAX:
        raise argparse.ArgumentTypeError(f"{value} is not an id: ids run from 1 to {DB_INTEGER_MAX}")
    return number


def whole_number(low: int = 0, high: int = DB_INTEGER_MAX):
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a whole number")
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(f"{value} is not between {low} and {high}")
        return number

    return parse
