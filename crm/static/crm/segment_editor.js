// The segment editor: a point-and-click rule builder over the rules JSON, and a live count that POSTs the
// unsaved rules to /api/segments/preview/. The JSON text box stays the form's field (the stored format): the
// builder writes into it, so without this script the page is the JSON box alone and still saves.
(function () {
  const form = document.getElementById("segment-form");
  if (!form) return;
  const rules = form.querySelector("textarea[name=rules]");
  const count = document.getElementById("live-count");
  const status = document.getElementById("live-status");
  const errors = document.getElementById("rule-errors");
  const token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  const builder = document.getElementById("rule-builder");
  const jsonBox = document.getElementById("rules-json");
  const setup = JSON.parse(document.getElementById("segment-builder").textContent);
  const fields = Object.fromEntries(setup.fields.map((field) => [field.field, field]));
  let timer = null;
  let sent = 0;

  function show(problems) {
    errors.replaceChildren(...problems.map((problem) => {
      const item = document.createElement("li");
      item.textContent = problem;
      return item;
    }));
  }

  async function refresh() {
    let parsed;
    try {
      parsed = JSON.parse(rules.value);
    } catch (error) {
      show(["The rules are not valid JSON yet: " + error.message]);
      return;
    }
    const mine = ++sent;
    status.textContent = "counting…";
    const response = await fetch("/api/segments/preview/", {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": token},
      body: JSON.stringify({rules: parsed}),
    });
    if (mine !== sent) return;  // an older answer arriving late must not overwrite a newer one
    const body = await response.json();
    status.textContent = "";
    if (response.ok) {
      count.textContent = body.count;
      show([]);
    } else {
      count.textContent = "?";
      const problems = (body.extra && body.extra.errors) || [];
      show(problems.length ? problems.map((p) => (p.where || p.path) + ": " + p.message) : [body.message]);
    }
  }

  function countSoon() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 300);
  }

  // ---- the rule builder ----
  let tree = null;

  function familyOf(rule) {
    return typeof rule.field === "string" && rule.field.startsWith("custom:") ? "custom" : rule.field;
  }

  function kindOf(rule) {
    const field = fields[familyOf(rule)];
    const operator = field && field.operators.find((op) => op.operator === rule.operator);
    return operator ? operator.value : null;
  }

  // A value the builder can show for its kind, so a rule it reads is one it can edit.
  function fits(kind, value) {
    const isList = Array.isArray(value) && value.every((item) => typeof item === "string");
    return {
      list: isList, choices: isList, none: value === undefined || value === null,
      text: typeof value === "string" || typeof value === "number",
      number: Number.isInteger(value), date: typeof value === "string",
      pair: Array.isArray(value) && value.length === 2 && value.every(Number.isInteger),
      event: !!value && typeof value === "object" && Number.isInteger(value.days),
      event_kind: !!value && typeof value === "object" && typeof value.kind === "string",
    }[kind];
  }

  function readable(node, depth) {
    if (!node || typeof node !== "object") return false;
    if ("rules" in node) {
      return depth <= setup.maxDepth && ["and", "or"].includes(node.op || "and") && Array.isArray(node.rules)
        && node.rules.every((item) => readable(item, depth + 1));
    }
    const kind = kindOf(node);
    return kind !== null && fits(kind, node.value);
  }

  function defaultValue(field, operator, kind) {
    const firstChoice = field.choices.length ? field.choices[0].value : "";
    const kindChoice = field.choices.some((c) => c.value === "opened") ? "opened" : firstChoice;
    return {
      list: [], choices: [], text: "", none: undefined, pair: [0, 100],
      number: operator.includes("days") ? 30 : 50,
      date: new Date().toISOString().slice(0, 10),
      event: {kind: kindChoice, days: 30}, event_kind: {kind: kindChoice},
    }[kind];
  }

  function newRule(family) {
    const field = fields[family];
    const operator = field.operators[0];
    const rule = {field: family === "custom" ? "custom:" : family, operator: operator.operator};
    const value = defaultValue(field, operator.operator, operator.value);
    if (value !== undefined) rule.value = value;
    return rule;
  }

  function changed() {
    rules.value = JSON.stringify(tree, null, 2);
    countSoon();
  }

  function element(tag, attributes, children) {
    const made = document.createElement(tag);
    Object.entries(attributes || {}).forEach(([name, value]) => {
      if (name === "text") made.textContent = value;
      else made.setAttribute(name, value);
    });
    (children || []).forEach((child) => made.append(child));
    return made;
  }

  function select(label, options, chosen, onChange) {
    const made = element("select", {"aria-label": label}, options.map(([value, text]) => {
      const option = element("option", {value, text});
      option.selected = value === chosen;
      return option;
    }));
    made.addEventListener("change", () => onChange(made.value));
    return made;
  }

  function input(attributes, onInput) {
    const made = element("input", attributes);
    made.addEventListener("input", () => onInput(made.value));
    return made;
  }

  function whole(text) {
    return text.trim() === "" ? null : Number(text);
  }

  function valueEditor(rule) {
    const field = fields[familyOf(rule)];
    const set = (value) => { rule.value = value; changed(); };
    const kindChoices = field.choices.map((choice) => [choice.value, choice.label]);
    switch (kindOf(rule)) {
      case "list": {
        const attributes = {type: "text", "aria-label": "Values", placeholder: "comma-separated",
                            value: rule.value.join(", ")};
        const suggestions = {tags: "segment-tag-names", topics: "segment-topic-slugs"}[field.field];
        if (suggestions) attributes.list = suggestions;
        return input(attributes, (text) => set(text.split(",").map((item) => item.trim()).filter(Boolean)));
      }
      case "choices":
        return element("span", {class: "rule-choices"}, field.choices.map((choice) => {
          const box = element("input", {type: "checkbox", value: choice.value});
          box.checked = rule.value.includes(choice.value);
          box.addEventListener("change", () => set(field.choices.map((c) => c.value).filter(
            (value) => value === choice.value ? box.checked : rule.value.includes(value))));
          return element("label", {}, [box, " " + choice.label]);
        }));
      case "text":
        return input({type: "text", "aria-label": "Value", value: rule.value}, set);
      case "number":
        return input({type: "number", "aria-label": "Number", value: rule.value ?? ""}, (text) => set(whole(text)));
      case "date":
        return input({type: "date", "aria-label": "Date", value: rule.value}, set);
      case "pair":
        return element("span", {}, [
          input({type: "number", "aria-label": "From", value: rule.value[0]},
                (text) => set([whole(text), rule.value[1]])),
          " and ",
          input({type: "number", "aria-label": "To", value: rule.value[1]},
                (text) => set([rule.value[0], whole(text)])),
        ]);
      case "event":
        return element("span", {}, [
          select("Event", kindChoices, rule.value.kind, (kind) => set({...rule.value, kind})),
          " days: ",
          input({type: "number", "aria-label": "Days", min: "1", value: rule.value.days},
                (text) => set({...rule.value, days: whole(text)})),
        ]);
      case "event_kind":
        return select("Event", kindChoices, rule.value.kind, (kind) => set({kind}));
      default:
        return element("span");
    }
  }

  function ruleRow(rule, siblings) {
    const family = familyOf(rule);
    const field = fields[family];
    const parts = [
      select("Field", setup.fields.map((f) => [f.field, f.label]), family, (chosen) => {
        siblings[siblings.indexOf(rule)] = newRule(chosen);
        changed();
        render();
      }),
    ];
    if (family === "custom") {
      parts.push(input({type: "text", "aria-label": "Custom field name", placeholder: "name",
                        value: rule.field.slice("custom:".length)},
                       (name) => { rule.field = "custom:" + name.trim(); changed(); }));
    }
    parts.push(select("Operator", field.operators.map((op) => [op.operator, op.label]), rule.operator, (chosen) => {
      const before = kindOf(rule);
      rule.operator = chosen;
      const after = kindOf(rule);
      if (after !== before) {
        const value = defaultValue(field, chosen, after);
        if (value === undefined) delete rule.value; else rule.value = value;
      }
      changed();
      render();
    }));
    parts.push(valueEditor(rule));
    const remove = element("button", {type: "button", class: "link-button", text: "Remove rule"});
    remove.addEventListener("click", () => { siblings.splice(siblings.indexOf(rule), 1); changed(); render(); });
    parts.push(remove);
    return element("li", {class: "rule"}, parts);
  }

  function groupBox(group, depth, siblings) {
    const items = element("ol", {class: "rule-items"}, group.rules.map((item) =>
      "rules" in item ? element("li", {}, [groupBox(item, depth + 1, group.rules)]) : ruleRow(item, group.rules)));
    const addRule = element("button", {type: "button", text: "Add rule"});
    addRule.addEventListener("click", () => { group.rules.push(newRule("tags")); changed(); render(); });
    const addGroup = element("button", {type: "button", text: "Add group"});
    addGroup.disabled = depth >= setup.maxDepth;
    addGroup.addEventListener("click", () => {
      group.rules.push({op: group.op === "or" ? "and" : "or", rules: [newRule("tags")]});
      changed();
      render();
    });
    const head = element("div", {class: "rule-group-head"}, [
      select("Match", [["and", "All of these"], ["or", "Any of these"]], group.op || "and", (op) => {
        group.op = op;
        changed();
      }),
    ]);
    if (siblings) {
      const remove = element("button", {type: "button", class: "link-button", text: "Remove group"});
      remove.addEventListener("click", () => { siblings.splice(siblings.indexOf(group), 1); changed(); render(); });
      head.append(remove);
    }
    if (!group.rules.length) items.append(element("li", {class: "muted", text: "No rules: everyone matches."}));
    return element("div", {class: "rule-group"}, [head, items, element("div", {}, [addRule, " ", addGroup])]);
  }

  function render() {
    builder.replaceChildren(groupBox(tree, 1, null));
  }

  // Reads the JSON box into the builder when the builder can show it; otherwise the JSON box is the editor.
  function load() {
    let parsed;
    try {
      parsed = JSON.parse(rules.value);
    } catch (error) {
      parsed = null;
    }
    if (parsed && typeof parsed === "object" && "rules" in parsed && readable(parsed, 1)) {
      tree = parsed;
      tree.op = tree.op || "and";
      builder.hidden = false;
      render();
      return true;
    }
    builder.hidden = true;
    return false;
  }

  rules.addEventListener("input", () => {
    load();
    countSoon();
  });
  if (load()) jsonBox.open = false;
  refresh();
})();
