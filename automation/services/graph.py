"""Checking a journey's steps before they are saved: every step reachable, no dead end, no wait
without a way out, no loop a contact could go round without waiting, every step's settings usable."""

from django.core.exceptions import ValidationError
from django.utils.text import slugify

from automation.choices import BRANCHING, DELIVER_AT_ONCE, DELIVER_CHOICES, StepKind
from automation.services.actions import config_errors as action_config_errors
from automation.services.waits import WAIT_MODES, wait_config_errors, wait_event_errors, wait_seconds
from crm.choices import LifecycleStatus

CONDITIONS = ("tag", "lifecycle", "field", "segment_id", "clicked_last_email", "opened_last_email")


def _config_errors(step: dict) -> list[str]:
    from publishing.email.models import EmailTemplate

    kind, config = step.get("kind"), step.get("config") or {}
    if not isinstance(config, dict):
        return ["Give the settings as an object."]
    if kind == StepKind.WAIT:
        return wait_config_errors(config)
    if kind == StepKind.WAIT_EVENT:
        return wait_event_errors(config)
    if kind in (StepKind.ADD_TAG, StepKind.REMOVE_TAG):
        return [] if str(config.get("tag") or "").strip() else ["Name the tag."]
    if kind == StepKind.SET_LIFECYCLE:
        return [] if config.get("stage") in LifecycleStatus.values else ["Choose a lifecycle stage."]
    if kind == StepKind.SET_FIELD:
        return [] if slugify(str(config.get("field") or "")) else ["Name the field to set."]
    if kind == StepKind.SEND_EMAIL:
        template = config.get("template_id")
        if not isinstance(template, int) or not EmailTemplate.objects.filter(pk=template).exists():
            return ["An email step needs an email template."]
        if config.get("deliver", DELIVER_AT_ONCE) not in dict(DELIVER_CHOICES):
            return ["Choose when the email goes: at once, or at the contact's best hour."]
        return []
    if kind == StepKind.RANDOM_SPLIT:
        percent = config.get("percent")
        return [] if isinstance(percent, int) and 0 < percent < 100 else ["Give the first path's share, 1 to 99 %."]
    if kind == StepKind.CONDITION:
        asked = [name for name in CONDITIONS if name in config]
        if len(asked) != 1:
            return [f"Ask exactly one of: {', '.join(CONDITIONS)}."]
        if asked == ["lifecycle"] and config["lifecycle"] not in LifecycleStatus.values:
            return ["Choose a lifecycle stage."]
        if asked == ["field"] and "equals" not in config:
            return ["Say which value the field must equal."]
        return []
    return action_config_errors(kind, config)


def graph_validate(steps: list[dict]) -> None:
    """Raise ValidationError with one entry per faulty step ("steps[2].next": [...]); the first step is
    where contacts start."""
    errors: dict[str, list[str]] = {}
    if not steps:
        raise ValidationError({"steps": ["Add at least one step."]})
    keys = [str(step.get("key") or "") for step in steps]
    for index, step in enumerate(steps):
        here = f"steps[{index}]"
        kind = step.get("kind")
        if kind not in StepKind.values:
            errors.setdefault(f"{here}.kind", []).append(f"Choose one of: {', '.join(StepKind.values)}.")
            continue
        if not keys[index] or keys[index] != slugify(keys[index]) or keys.count(keys[index]) > 1:
            errors.setdefault(f"{here}.key", []).append("Give each step its own short name (letters, digits, -).")
        ways = {"next": step.get("next") or "", "other": step.get("other") or ""}
        needed = () if kind == StepKind.EXIT else ("next", "other") if kind in BRANCHING else ("next",)
        for way in ("next", "other"):
            if way in needed and not ways[way]:
                message = ("A wait needs a step to go on to." if kind == StepKind.WAIT
                           else "A wait for an event needs a step for when it happens (next) and one for "
                                "when it does not in time (other)." if kind == StepKind.WAIT_EVENT
                           else "This step leads nowhere: add the step that follows, or an exit.")
                errors.setdefault(f"{here}.{way}", []).append(message)
            elif way not in needed and ways[way]:
                errors.setdefault(f"{here}.{way}", []).append("This kind of step has no such way out.")
            elif ways[way] and ways[way] not in keys:
                errors.setdefault(f"{here}.{way}", []).append(f"No step is called {ways[way]!r}.")
        for message in _config_errors(step):
            errors.setdefault(f"{here}.config", []).append(message)
    if errors:
        raise ValidationError(errors)
    _check_reach_and_loops(steps)


def _check_reach_and_loops(steps: list[dict]) -> None:
    following = {step["key"]: [way for way in (step.get("next"), step.get("other")) if way] for step in steps}
    seen, stack = set(), [steps[0]["key"]]
    while stack:
        key = stack.pop()
        if key not in seen:
            seen.add(key)
            stack.extend(following[key])
    unreachable = [index for index, step in enumerate(steps) if step["key"] not in seen]
    if unreachable:
        raise ValidationError({f"steps[{index}].key": ["No step leads here."] for index in unreachable})
    # A loop is allowed only through a wait of some length: otherwise the runner would spin on it. A
    # date passed long ago would not hold anyone, a weekday and an awaited event do.
    pausing = {step["key"] for step in steps if step["kind"] == StepKind.WAIT_EVENT or step["kind"] == StepKind.WAIT
               and ("weekday" in step["config"] or not set(WAIT_MODES) & set(step["config"])
                    and wait_seconds(step["config"]) > 0)}
    state: dict[str, int] = {}

    def visit(key: str) -> str | None:
        state[key] = 1
        for after in following[key]:
            if after in pausing:
                continue
            if state.get(after) == 1:
                return after
            if after not in state and (found := visit(after)):
                return found
        state[key] = 2
        return None

    for key in following:
        if key not in pausing and key not in state and (looped := visit(key)):
            index = [step["key"] for step in steps].index(looped)
            raise ValidationError({f"steps[{index}].key": ["This step is on a loop with no wait in it."]})
