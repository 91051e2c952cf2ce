"""Which contact field each CSV column fills.

Headers are compared after folding case and dropping everything but letters and digits, so
"E-mail", "Email Address" and "email_address" meet. The aliases cover the exports of Mautic,
HubSpot, Salesforce, LinkedIn (connections) and Apollo; anything else is left unmapped ("") for
a person to choose, never guessed.
"""

import re

from aicmo_site.errors import DomainError

# The contact fields an import may fill. Lifecycle, email status and consent are left out on
# purpose: they change only through their own workflows (verification, unsubscribe, transitions).
CONTACT_FIELDS = {
    "email": "Email",
    "first_name": "First name",
    "last_name": "Last name",
    "job_title": "Job title",
    "phone": "Phone",
    "company": "Company",
    "linkedin_url": "LinkedIn URL",
    "city": "City",
    "country": "Country",
    "source": "Source",
    "time_zone": "Time zone",
}
TAGS = "tags"
TOPICS = "topics"
CUSTOM_PREFIX = "custom:"
IGNORE = ""

_ALIASES = {
    "email": (
        "email", "emailaddress", "email1", "emails", "mail", "workemail", "businessemail", "primaryemail",
        "personalemail", "contactemail", "emailaddr",
    ),
    "first_name": ("firstname", "first", "givenname", "forename", "fname"),
    "last_name": ("lastname", "last", "surname", "familyname", "lname"),
    "job_title": ("jobtitle", "title", "position", "role", "designation", "jobposition", "occupation"),
    "phone": (
        "phone", "phonenumber", "mobile", "mobilephone", "mobilephonenumber", "workphone", "telephone",
        "corporatephone", "workdirectphone", "directphone", "homephone", "otherphone", "businessphone",
    ),
    "company": (
        "company", "companyname", "organization", "organisation", "organizationname", "accountname",
        "employer", "companynameforemails", "account",
    ),
    "linkedin_url": (
        "linkedin", "linkedinurl", "personlinkedinurl", "linkedinprofile", "linkedinprofileurl",
        "linkedinprofilelink", "profileurl", "url",
    ),
    "city": ("city", "mailingcity", "town", "locality"),
    "country": ("country", "countryregion", "mailingcountry", "countryname"),
    "source": ("source", "leadsource", "originalsource", "contactsource"),
    "time_zone": ("timezone", "tz", "timezonename", "ianatimezone"),
    TAGS: ("tags", "tag", "labels", "lists", "segments"),
    TOPICS: ("topics", "topic", "interests", "interest", "topicsofinterest", "areasofinterest"),
}
_ALIAS_TO_FIELD = {alias: field for field, aliases in _ALIASES.items() for alias in aliases}
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_CUSTOM_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_ .-]{0,62}$")


def fold_header(header: str) -> str:
    return _NON_ALNUM.sub("", header.strip().lower())


def auto_mapping(headers: list[str]) -> dict[str, str]:
    """The field each header fills; a field goes to the first column that names it."""
    mapping, taken = {}, set()
    for header in headers:
        if header.lower().startswith(CUSTOM_PREFIX) and _CUSTOM_NAME.match(header[len(CUSTOM_PREFIX):].strip()):
            # What crm.exports writes for custom fields, so an export imports back as it was.
            mapping[header] = CUSTOM_PREFIX + header[len(CUSTOM_PREFIX):].strip()
            continue
        field = _ALIAS_TO_FIELD.get(fold_header(header), IGNORE)
        if field and field in taken and field != "phone":
            field = IGNORE
        mapping[header] = field
        taken.add(field)
    return mapping


def target_choices() -> list[tuple[str, str]]:
    """What a column can be mapped to, for the preview's selects."""
    return [(IGNORE, "— ignore —"), *CONTACT_FIELDS.items(), (TAGS, "Tags (split on , or ;)"),
            (TOPICS, "Topics of interest (names or slugs, split on , or ;)")]


def mapping_resolve(headers: list[str], overrides: dict[str, str] | None) -> dict[str, str]:
    """The automatic mapping with a person's choices on top; refuses what cannot be imported."""
    overrides = overrides or {}
    errors = {}
    for column in overrides:
        if column not in headers:
            errors[column] = f"The file has no column {column!r}; its columns are: {', '.join(headers)}."
    mapping = auto_mapping(headers)
    for column, target in overrides.items():
        if column not in headers:
            continue
        target = (target or "").strip()
        if target.startswith(CUSTOM_PREFIX):
            name = target[len(CUSTOM_PREFIX):].strip()
            if not _CUSTOM_NAME.match(name):
                errors[column] = "A custom field name has 1 to 63 letters, digits, spaces, dots, dashes or _."
                continue
            target = CUSTOM_PREFIX + name
        elif target not in CONTACT_FIELDS and target not in (TAGS, TOPICS, IGNORE):
            errors[column] = (
                f"Unknown field {target!r}: use one of {', '.join(CONTACT_FIELDS)}, tags, topics, custom:<name> "
                "or nothing to ignore the column."
            )
            continue
        mapping[column] = target
    if not errors and "email" not in mapping.values():
        errors["mapping"] = "No column is mapped to email; every contact needs an email address."
    if errors:
        raise DomainError(f"The column mapping cannot be used: {' '.join(errors.values())}", code="invalid_mapping",
                          extra={"fields": errors})
    return mapping


def mapping_from_pairs(pairs: list[str]) -> dict[str, str]:
    """Parses command-line "Column=field" pairs."""
    mapping = {}
    for pair in pairs:
        column, sep, target = pair.partition("=")
        if not sep or not column.strip():
            raise DomainError(f"--map {pair!r} must look like \"Column name=field\".", code="invalid_mapping")
        mapping[column.strip()] = target.strip()
    return mapping
