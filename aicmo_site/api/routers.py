"""Object ids in paths (the API's and the back office's) are matched by the `id` converter, so an id no
row can hold (past 64 bits) is a 404 at routing, before any view or query sees it."""

from rest_framework.routers import DefaultRouter

from aicmo_site.bounds import DB_INTEGER_MAX


class IdConverter:
    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 1 <= number <= DB_INTEGER_MAX:
            raise ValueError(f"{value} is not a stored id")
        return number

    def to_url(self, value) -> str:
        return str(value)


class ApiRouter(DefaultRouter):
    # Formats are chosen by ?format= or the Accept header; suffixed twins of every path (.json) only
    # doubled the surface, and a suffix on an action reached it as an argument it does not take.
    include_format_suffixes = False

    def __init__(self):
        super().__init__(trailing_slash=True, use_regex_path=False)
        self._default_value_pattern = "id"
