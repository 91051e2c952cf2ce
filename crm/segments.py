"""Segment rules → one Q over Contact.

Rules are a group {"op": "and"|"or", "rules": [...]} whose items are rules
{"field", "operator", "value"} or nested groups. Every condition on related rows (tags, events)
is an EXISTS subquery, so a segment is one SQL statement without joins that multiply rows.
"In the last N days" is measured from the database's clock at each statement (now() - N days),
not written into the SQL as a moment: the same rules always make the same SQL, so a compiled
statement can be kept and run again (crm.selectors.segment_members_page).

Fields and operators:
- tags: any | all | none, value: list of tag names
- topics: any | all | none, value: list of topic slugs (the contact's topics of interest)
- domain: in | not_in (list), ends_with (text)
- lifecycle_status, email_status, engagement_tier, consent_status, value_tier: in | not_in (list of values)
- engagement_score: between [low, high] | gte | lte (0..100)
- created_at: within_days | older_than_days (N), after | before (YYYY-MM-DD)
- event: within_days | not_within_days, value {"kind": "opened", "days": 30}; ever | never, value {"kind": ...}
- country, city, job_title, source: eq | contains | in (list)
- custom:<name>: eq | neq | contains | exists | not_exists | gt | lt
- weather (at the contact's city, from crm.CityWeather): rain_today | no_rain_today (no value),
  temperature_above | temperature_below (°C, now); a contact whose city has no reading matches none of them
"""

import re
from datetime import date, timedelta

from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Lower, Now, Trim

from aicmo_site.errors import DomainError
from crm.choices import ConsentStatus, EmailStatus, EngagementTier, EventKind, LifecycleStatus, ValueTier
from crm.models import CityWeather, Contact, EngagementEvent

MAX_DEPTH = 5
MAX_RULES = 100
# Past these, date arithmetic overflows and numbers no longer fit a 64-bit database integer.
MAX_DAYS = 36500
MAX_NUMBER = 2**63 - 1
_CHOICE_FIELDS = {
    "lifecycle_status": LifecycleStatus.values,
    "email_status": EmailStatus.values,
    "engagement_tier": EngagementTier.values,
    "consent_status": ConsentStatus.values,
    # Contacts who never paid have no tier: "is none of" all four picks them.
    "value_tier": [value for value in ValueTier.values if value],
}
_TEXT_FIELDS = ("country", "city", "job_title", "source")
_CUSTOM_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _-]{0,62}$")

# What the segment editor's rule builder asks for each operator's value: "list" (comma-separated words), "choices"
# (some of the field's values), "text", "number", "pair" (low and high numbers), "date", "event" (a kind and a
# number of days), "event_kind", or "none" (no value). Its keys are the fields and operators rules_q() accepts.
_VALUE_KINDS = {
    "tags": {"any": "list", "all": "list", "none": "list"},
    "topics": {"any": "list", "all": "list", "none": "list"},
    "domain": {"in": "list", "not_in": "list", "ends_with": "text"},
    "engagement_score": {"between": "pair", "gte": "number", "lte": "number"},
    "created_at": {"within_days": "number", "older_than_days": "number", "after": "date", "before": "date"},
    "event": {"within_days": "event", "not_within_days": "event", "ever": "event_kind", "never": "event_kind"},
    **{name: {"in": "choices", "not_in": "choices"} for name in _CHOICE_FIELDS},
    **{name: {"eq": "text", "contains": "text", "in": "list"} for name in _TEXT_FIELDS},
    "custom": {"eq": "text", "neq": "text", "contains": "text", "exists": "none", "not_exists": "none",
               "gt": "number", "lt": "number"},
    "weather": {"rain_today": "none", "no_rain_today": "none", "temperature_above": "number",
                "temperature_below": "number"},
}
OPERATORS = {family: tuple(kinds) for family, kinds in _VALUE_KINDS.items()}
_FIELD_LABELS = {
    "tags": "Tags", "topics": "Topics of interest", "domain": "Email domain", "lifecycle_status": "Lifecycle stage",
    "email_status": "Email status",
    "engagement_tier": "Engagement tier", "consent_status": "Consent", "engagement_score": "Engagement score",
    "value_tier": "Value tier", "created_at": "Added", "event": "Engagement event", "country": "Country",
    "city": "City",
    "job_title": "Job title", "source": "Source", "custom": "Custom field", "weather": "Weather where they live",
}
_OPERATOR_LABELS = {
    "any": "has any of", "all": "has all of", "none": "has none of", "in": "is one of", "not_in": "is none of",
    "ends_with": "ends with", "between": "is between", "gte": "is at least", "lte": "is at most",
    "within_days": "in the last … days", "older_than_days": "more than … days ago", "not_within_days":
    "not in the last … days", "after": "on or after", "before": "before", "ever": "ever happened",
    "never": "never happened", "eq": "is", "neq": "is not", "contains": "contains", "exists": "is set",
    "not_exists": "is not set", "gt": "is more than", "lt": "is less than",
    "rain_today": "rain today", "no_rain_today": "no rain today", "temperature_above": "temperature above … °C",
    "temperature_below": "temperature below … °C",
}
_CHOICE_LABELS = {"lifecycle_status": LifecycleStatus.choices, "email_status": EmailStatus.choices,
                  "engagement_tier": EngagementTier.choices, "consent_status": ConsentStatus.choices,
                  "value_tier": [choice for choice in ValueTier.choices if choice[0]],
                  "event": EventKind.choices}


def builder_fields() -> list[dict]:
    """The fields, operators and value shapes the rule builder offers, in the order it lists them."""
    return [
        {"field": family, "label": _FIELD_LABELS[family],
         "operators": [{"operator": operator, "label": _OPERATOR_LABELS[operator], "value": kind}
                       for operator, kind in _VALUE_KINDS[family].items()],
         "choices": [{"value": value, "label": str(label)} for value, label in _CHOICE_LABELS.get(family, ())]}
        for family in OPERATORS
    ]


# What the end of a problem's path names, in the words of the rule builder.
_PARTS = {"field": "field", "operator": "condition", "value": "value", "value.kind": "event",
          "value.days": "number of days", "value[0]": "lowest score", "value[1]": "highest score",
          "op": "all or any", "rules": "rules"}
_PLACE = re.compile(r"\.rules\[(\d+)\]")


def describe_place(path: str) -> str:
    """ "rules.rules[2].rules[0].value" reads "Rule 3 › 1, value": the builder's numbering, not a JSON path
    (the API keeps the path for programs)."""
    rest = path.removeprefix("rules")
    numbers = [str(int(n) + 1) for n in _PLACE.findall(rest)]
    part = _PARTS.get(_PLACE.sub("", rest).lstrip("."), "")
    place = f"Rule {' › '.join(numbers)}" if numbers else "The rules"
    return f"{place}, {part}" if part and (numbers or part != "rules") else place


class SegmentRulesError(DomainError):
    def __init__(self, errors: list[dict]):
        for error in errors:
            error["where"] = describe_place(error["path"])
        summary = "; ".join(f"{error['where']}: {error['message']}" for error in errors[:5])
        super().__init__(f"The segment rules are not valid: {summary}", code="invalid_rules",
                         extra={"errors": errors})
        self.errors = errors


def _texts(value, *, path, errors) -> list[str]:
    items = value if isinstance(value, list) else [value]
    cleaned = [str(item).strip() for item in items if str(item).strip()]
    if not cleaned or not all(isinstance(item, (str, int)) for item in items):
        errors.append({"path": path, "message": "give one or more values"})
    elif any("\x00" in item for item in cleaned):
        # PostgreSQL refuses NUL in any text parameter: the whole query would fail.
        errors.append({"path": path, "message": "values cannot contain NUL characters"})
        return []
    return cleaned


def _whole(value, *, path, errors, low=0, high=None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        bound = f"{low}..{high}" if high is not None else f"at least {low}"
        errors.append({"path": path, "message": f"must be a whole number {bound}"})
        return low
    return value


def _day(value, *, path, errors):
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        errors.append({"path": path, "message": "must be a date as YYYY-MM-DD"})
        return date.today()


# Each kind of field turns its rule into a Q in its own function, called with the rule's field, its checked
# operator, its value and the value's path (where problems are reported).

def _linked_q(field, operator, value, *, path, errors) -> Q:
    through, key = _LINKED[field]
    names = _texts(value, path=path, errors=errors)
    if operator == "all":
        q = Q()
        for name in names:
            q &= Q(Exists(through.objects.filter(contact=OuterRef("pk"), **{key: name})))
        return q
    linked = Q(Exists(through.objects.filter(contact=OuterRef("pk"), **{f"{key}__in": names})))
    return linked if operator == "any" else ~linked


def _domain_q(field, operator, value, *, path, errors) -> Q:
    if operator == "ends_with":
        return Q(domain__endswith=str(value or "").strip().lower().lstrip("@"))
    domains = [item.lower().lstrip("@") for item in _texts(value, path=path, errors=errors)]
    return Q(domain__in=domains) if operator == "in" else ~Q(domain__in=domains)


def _choice_q(field, operator, value, *, path, errors) -> Q:
    values = _texts(value, path=path, errors=errors)
    wrong = [item for item in values if item not in _CHOICE_FIELDS[field]]
    if wrong:
        errors.append({"path": path, "message": f"unknown {field}: {', '.join(wrong)}"})
    matches = Q(**{f"{field}__in": values})
    return matches if operator == "in" else ~matches


def _score_q(field, operator, value, *, path, errors) -> Q:
    if operator != "between":
        return Q(**{f"engagement_score__{operator}": _whole(value, path=path, errors=errors, high=100)})
    pair = value if isinstance(value, list) and len(value) == 2 else [None, None]
    low = _whole(pair[0], path=f"{path}[0]", errors=errors, high=100)
    high = _whole(pair[1], path=f"{path}[1]", errors=errors, high=100)
    if low > high:
        errors.append({"path": path, "message": "the low end is above the high end"})
    return Q(engagement_score__gte=low, engagement_score__lte=high)


def _created_q(field, operator, value, *, path, errors) -> Q:
    if operator in ("within_days", "older_than_days"):
        days = _whole(value, path=path, errors=errors, low=1, high=MAX_DAYS)
        since = Now() - timedelta(days=days)
        return Q(created_at__gte=since) if operator == "within_days" else Q(created_at__lt=since)
    day = _day(value, path=path, errors=errors)
    return Q(created_at__date__gte=day) if operator == "after" else Q(created_at__date__lt=day)


def _event_q(field, operator, value, *, path, errors) -> Q:
    value = value if isinstance(value, dict) else {}
    kind = value.get("kind")
    if kind not in EventKind.values:
        errors.append({"path": f"{path}.kind", "message": f"must be one of {', '.join(EventKind.values)}"})
    events = EngagementEvent.objects.filter(contact=OuterRef("pk"), kind=kind)
    if operator in ("within_days", "not_within_days"):
        days = _whole(value.get("days"), path=f"{path}.days", errors=errors, low=1, high=3650)
        events = events.filter(occurred_at__gte=Now() - timedelta(days=days))
    found = Q(Exists(events))
    return found if operator in ("within_days", "ever") else ~found


def _text_q(field, operator, value, *, path, errors) -> Q:
    if operator == "in":
        return Q(**{f"{field}__in": _texts(value, path=path, errors=errors)})
    text = " ".join(_texts(value, path=path, errors=errors))
    return Q(**{f"{field}__iexact" if operator == "eq" else f"{field}__icontains": text})


def _custom_q(field, operator, value, *, path, errors) -> Q:
    key = field.split(":", 1)[1]
    if not _CUSTOM_KEY.match(key) or "__" in key:
        errors.append({"path": path, "message": "custom field names use letters, digits, spaces, - and _"})
        return Q()
    lookup = f"custom_fields__{key}"
    if operator == "exists":
        return Q(custom_fields__has_key=key)
    if operator == "not_exists":
        return ~Q(custom_fields__has_key=key)
    if value is None or isinstance(value, (list, dict)):
        errors.append({"path": path, "message": "give one value"})
        return Q()
    if operator == "contains":
        return Q(**{f"{lookup}__icontains": str(value)})
    if operator in ("gt", "lt"):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or abs(value) > MAX_NUMBER:
            errors.append({"path": path, "message": "compare with a number"})
            return Q()
        return Q(**{f"{lookup}__{operator}": value})
    matches = Q(**{lookup: value})
    return matches if operator == "eq" else ~matches & Q(custom_fields__has_key=key)


def _weather_q(field, operator, value, *, path, errors) -> Q:
    """One EXISTS on the per-city weather table, matched on the contact's city and country as written."""
    weather = CityWeather.objects.filter(city_key=Lower(Trim(OuterRef("city"))),
                                         country_key=Lower(Trim(OuterRef("country"))))
    if operator in ("rain_today", "no_rain_today"):
        return Q(Exists(weather.filter(rain_today=operator == "rain_today")))
    if isinstance(value, bool) or not isinstance(value, int | float) or not -90 <= value <= 60:
        errors.append({"path": path, "message": "give a temperature in °C between -90 and 60"})
        return Q()
    lookup = "temperature_c__gt" if operator == "temperature_above" else "temperature_c__lt"
    return Q(Exists(weather.filter(**{lookup: value})))


# Rules on linked rows: the link table and how a value names the linked row.
_LINKED = {"tags": (Contact.tags.through, "tag__name"), "topics": (Contact.topics.through, "topic__slug")}
_RULE_Q = {
    **{name: _linked_q for name in _LINKED},
    "domain": _domain_q,
    **{name: _choice_q for name in _CHOICE_FIELDS},
    "engagement_score": _score_q,
    "created_at": _created_q,
    "event": _event_q,
    **{name: _text_q for name in _TEXT_FIELDS},
    "custom": _custom_q,
    "weather": _weather_q,
}


def _rule_q(rule: dict, *, path: str, errors: list) -> Q:
    field, operator, value = rule.get("field"), rule.get("operator"), rule.get("value")
    family = "custom" if isinstance(field, str) and field.startswith("custom:") else field
    if family not in OPERATORS:
        errors.append({"path": f"{path}.field", "message": f"unknown field {field!r}"})
        return Q()
    if operator not in OPERATORS[family]:
        errors.append({"path": f"{path}.operator",
                       "message": f"{field} takes one of: {', '.join(OPERATORS[family])}"})
        return Q()
    return _RULE_Q[family](field, operator, value, path=f"{path}.value", errors=errors)


def _group_q(group, *, path: str, errors: list, depth: int) -> Q:
    if not isinstance(group, dict):
        errors.append({"path": path, "message": "must be a rule or a group"})
        return Q()
    if "rules" not in group:
        return _rule_q(group, path=path, errors=errors)
    if depth > MAX_DEPTH:
        errors.append({"path": path, "message": f"groups nest at most {MAX_DEPTH} deep"})
        return Q()
    op = group.get("op", "and")
    if op not in ("and", "or"):
        errors.append({"path": f"{path}.op", "message": 'must be "and" or "or"'})
    items = group.get("rules")
    if not isinstance(items, list):
        errors.append({"path": f"{path}.rules", "message": "must be a list"})
        return Q()
    if len(items) > MAX_RULES:
        errors.append({"path": f"{path}.rules", "message": f"a group holds at most {MAX_RULES} rules"})
        return Q()
    combined = Q()
    for index, item in enumerate(items):
        part = _group_q(item, path=f"{path}.rules[{index}]", errors=errors, depth=depth + 1)
        combined = (combined | part) if op == "or" and combined else (combined & part)
    return combined


def rules_q(rules) -> Q:
    """The Q for a rule tree; raises SegmentRulesError listing every problem with its path."""
    errors: list[dict] = []
    q = _group_q(rules, path="rules", errors=errors, depth=1)
    if errors:
        raise SegmentRulesError(errors)
    return q


def rules_validate(rules) -> list[dict]:
    try:
        rules_q(rules)
    except SegmentRulesError as error:
        return error.errors
    return []
