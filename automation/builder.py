"""The journey builder's form: the posted rows of steps turned into the steps the services take (by
each kind's STEP_SETTINGS), the journey's own settings, and the checks' errors put back beside the
field they are about. Adding, moving and removing a step re-render the form without saving."""

import re

from django.core.exceptions import ValidationError

from automation.choices import BRANCHING, STEP_SETTINGS, ExitTrigger, ReEntry, StepKind, TriggerKind

ROW = re.compile(r"^steps\[(\d+)\]\.(\w+)$")


def _setting_value(setting, raw: str):
    if setting.input == "number" or setting.picked:
        try:
            return int(raw)
        except ValueError:
            return raw
    return raw.strip()


def config_from_values(kind: str, values: dict[str, str]) -> dict:
    config: dict = {}
    asked = ""
    for setting in STEP_SETTINGS.get(kind, ()):
        raw = values.get(setting.name, "")
        if setting.input == "ask":
            asked = raw
            if raw:
                config[raw] = True
        elif setting.shown_for and setting.shown_for != asked:
            continue
        elif raw != "" or setting.shown_for:
            config[setting.name] = _setting_value(setting, raw)
    return config


def values_from_config(kind: str, config: dict) -> dict[str, str]:
    values = {}
    for setting in STEP_SETTINGS.get(kind, ()):
        if setting.input == "ask":
            values["ask"] = next((answer for answer, _label in setting.choices if answer in config), "")
        elif setting.name in config and config[setting.name] is not True:
            values[setting.name] = str(config[setting.name])
    return values


def rows_from_steps(steps) -> list[dict]:
    return [{"key": step.key, "kind": step.kind, "next": step.next, "other": step.other,
             "values": values_from_config(step.kind, step.config)} for step in steps]


def rows_from_post(post) -> list[dict]:
    count = int(post.get("step_count") or 0) if str(post.get("step_count") or "0").isdigit() else 0
    rows = []
    for index in range(min(count, 200)):
        kind = post.get(f"step-{index}-kind", "")
        rows.append({"key": post.get(f"step-{index}-key", "").strip(), "kind": kind,
                     "next": post.get(f"step-{index}-next", ""), "other": post.get(f"step-{index}-other", ""),
                     "values": {setting.name: post.get(f"step-{index}-{setting.name}", "")
                                for setting in STEP_SETTINGS.get(kind, ())}})
    return rows


def steps_from_rows(rows: list[dict]) -> list[dict]:
    return [{"key": row["key"], "kind": row["kind"], "config": config_from_values(row["kind"], row["values"]),
             "next": "" if row["kind"] == StepKind.EXIT else row["next"],
             "other": row["other"] if row["kind"] in BRANCHING else ""} for row in rows]


def rows_edit(rows: list[dict], operation: str) -> list[dict]:
    """add, up-N, down-N, remove-N. A step added after one that leads nowhere becomes its next."""
    rows = list(rows)
    if operation == "add":
        taken = {row["key"] for row in rows}
        key = next(f"step-{number}" for number in range(len(rows) + 1, len(rows) + 300)
                   if f"step-{number}" not in taken)
        if rows and not rows[-1]["next"] and rows[-1]["kind"] != StepKind.EXIT:
            rows[-1] = {**rows[-1], "next": key}
        rows.append({"key": key, "kind": StepKind.EXIT, "next": "", "other": "", "values": {}})
        return rows
    action, _, number = operation.partition("-")
    if not number.isdigit() or int(number) >= len(rows):
        return rows
    index = int(number)
    if action == "remove":
        del rows[index]
    elif action in ("up", "down"):
        other = index - 1 if action == "up" else index + 1
        if 0 <= other < len(rows):
            rows[index], rows[other] = rows[other], rows[index]
    return rows


def journey_fields_from_post(post) -> dict:
    trigger = post.get("trigger", TriggerKind.MANUAL)
    entry = {"kind": trigger}
    if trigger == TriggerKind.SEGMENT_ENTERED:
        segment = post.get("trigger_segment", "")
        entry["segment_id"] = int(segment) if segment.isdigit() else None
        if post.get("trigger_include_current"):
            entry["include_current"] = True
    elif trigger == TriggerKind.EVENT:
        entry["event_kind"] = post.get("trigger_event", "")
    elif trigger == TriggerKind.TAG_ADDED:
        entry["tag"] = post.get("trigger_tag", "").strip()
    goal_kind, goal_value = post.get("goal_kind", ""), post.get(f"goal_{post.get('goal_kind', '')}", "").strip()
    return {
        "name": post.get("name", "").strip(), "description": post.get("description", "").strip(),
        "reentry": post.get("reentry", ReEntry.ONCE_EVER),
        "entry_triggers": [] if trigger == TriggerKind.MANUAL else [entry],
        "exit_triggers": [item for item in post.getlist("exit_triggers") if item in ExitTrigger.values],
        "goal": {goal_kind: goal_value} if goal_kind in ("tag", "lifecycle") else {},
    }


JOURNEY_FIELDS = ("name", "description", "reentry", "entry_triggers", "exit_triggers", "goal")


def journey_fields_initial(fields: dict) -> dict:
    """What the form shows for a journey's settings (saved, or as posted)."""
    trigger = (fields.get("entry_triggers") or [{"kind": TriggerKind.MANUAL}])[0]
    goal = fields.get("goal") or {}
    goal_kind = next(iter(goal), "")
    return {"name": fields.get("name", ""), "description": fields.get("description", ""),
            "reentry": fields.get("reentry", ReEntry.ONCE_EVER), "trigger": trigger.get("kind", TriggerKind.MANUAL),
            "trigger_segment": trigger.get("segment_id"), "trigger_event": trigger.get("event_kind", ""),
            "trigger_tag": trigger.get("tag", ""),
            "trigger_include_current": bool(trigger.get("include_current")),
            "exit_triggers": fields.get("exit_triggers") or [], "goal_kind": goal_kind,
            "goal_value": goal.get(goal_kind, "")}


def errors_placed(error: ValidationError, rows: list[dict]) -> tuple[dict[str, list[str]], list[list[str]]]:
    """The journey's errors by field, and each step's errors (named by what they are about)."""
    journey_errors: dict[str, list[str]] = {}
    step_errors: list[list[str]] = [[] for _row in rows]
    about = {"key": "Name", "kind": "Kind", "config": "Settings", "next": "Then", "other": "Otherwise"}
    by_field = error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}
    for field, messages in by_field.items():
        match = ROW.match(field)
        if match and int(match.group(1)) < len(rows):
            step_errors[int(match.group(1))].extend(f"{about.get(match.group(2), match.group(2))}: {message}"
                                                    for message in messages)
        else:
            journey_errors.setdefault("trigger" if field.startswith("entry_triggers") else field, []).extend(messages)
    return journey_errors, step_errors


def row_panels(row: dict, index: int, choices: dict) -> list[dict]:
    """Each kind's settings for one step row: the current kind's filled in and enabled, the others
    disabled (not posted) until the marketer picks that kind."""
    sources = {"email_template": choices["templates"], "segment": choices["segments"],
               "lifecycle": choices["stages"], "list": choices["lists"], "subscription": choices["subscriptions"],
               "user": choices["users"], "journey": choices["journeys"], "slack_account": choices["slack_accounts"]}
    panels = []
    for kind, label in StepKind.choices:
        current = kind == row["kind"]
        panels.append({"kind": kind, "label": label, "current": current, "settings": [
            {"setting": setting, "id": f"step-{index}-{kind}-{setting.name}", "name": f"step-{index}-{setting.name}",
             "value": row["values"].get(setting.name, "") if current else "",
             "options": [(str(value), text) for value, text in (setting.choices or sources.get(setting.input, ()))]}
            for setting in STEP_SETTINGS.get(kind, ())]})
    return panels
