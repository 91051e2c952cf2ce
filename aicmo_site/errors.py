class DomainError(Exception):
    """A rule of the business refused an action; services raise it, the API answers 400 (or 409).

    `code` is stable for programs, `message` is for people, `extra` carries the figures behind it.
    """

    status_code = 400

    def __init__(self, message: str, code: str = "invalid", extra: dict | None = None, *, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.extra = extra or {}
        if status is not None:
            self.status_code = status


class ConflictError(DomainError):
    """The action clashes with the object's current state (already sent, already approved...)."""

    status_code = 409


def add_domain_error(form, error: DomainError, *, default_field: str | None = None) -> None:
    """A service's refusal shown on a page's form: each message on the field it names when the form has
    it, otherwise (or without field errors) on `default_field` or the form as a whole."""
    for field, errors in (error.extra or {}).get("fields", {default_field: [error.message]}).items():
        for message in errors:
            form.add_error(field if field in form.fields else None, message)
